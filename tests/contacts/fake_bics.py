"""A small stateful fake of BICS's contacts API (tags, contacts, segments, imports), over
real HTTP on loopback, for push/pull round trips until the shared sandbox covers contacts."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import threading
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/api/v2/"


class FakeContactsBics:
    def __init__(self):
        self.lock = threading.Lock()
        self.ids = itertools.count(1000)
        self.store: dict[str, dict[str, dict]] = {"contacts": {}, "tags": {}, "segments": {}}
        self.uploads: list[bytes] = []
        self.requests: list[tuple[str, str, dict | None]] = []
        self.segment_members: dict[str, list[dict]] = {}
        self.refuse_segment_update = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0][len(PREFIX):].strip("/")
                status, payload = fake.handle(self.command, path, self.headers, body)
                self._reply(status, payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------------------------
    @staticmethod
    def ok(data, message="OK", listing=False):
        body = {"code": 200, "data": data, "message": message, "status": "OK"}
        if listing:
            body["links"] = {"next": None}
            body["meta"] = {"current_page": 1, "last_page": 1, "total": len(data)}
        return 200, body

    def handle(self, method, path, headers, body):
        with self.lock:
            data = json.loads(body) if body and "json" in (headers.get("Content-Type") or "") else None
            self.requests.append((method, path, data))
            if path == "imports" and method == "POST":
                return self.bulk_import(headers, body)
            match = re.fullmatch(r"(contacts|tags|segments)(?:/([^/]+))?(/subscribers)?", path)
            if not match:
                return 404, {"status": "Error", "code": 404, "message": "no such route"}
            kind, item_id, subscribers = match.groups()
            items = self.store[kind]
            if subscribers:
                members = self.segment_members.get(item_id, [])
                return self.ok(members, listing=True)
            if item_id is None:
                if method == "GET":
                    return self.ok(list(items.values()), listing=True)
                if kind == "contacts" and any(c["phone"] == data.get("phone") for c in items.values()):
                    return 422, {"status": "Error", "code": 422, "message": "phone already exists"}
                new_id = str(next(self.ids))
                items[new_id] = {**data, "id": new_id}
                return self.ok(items[new_id], "created")
            if item_id not in items:
                return 404, {"status": "Error", "code": 404, "message": "not found"}
            if method == "GET":
                return self.ok(items[item_id])
            if method == "PUT":
                if kind == "segments" and self.refuse_segment_update:
                    return 422, {"status": "Error", "code": 422, "message": "negative_tags: unknown tag"}
                items[item_id].update(data)
                return self.ok(items[item_id], "updated")
            if method == "DELETE":
                del items[item_id]
                return self.ok([], "deleted")
            return 405, {"status": "Error", "code": 405, "message": "method"}

    def bulk_import(self, headers, body):
        message = BytesParser(policy=default_policy).parsebytes(
            b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body
        )
        part = next(p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file")
        content = part.get_payload(decode=True)
        self.uploads.append(content)
        count = 0
        for row in csv.DictReader(io.StringIO(content.decode("utf-8"))):
            new_id = str(next(self.ids))
            tags = [t for t in row.pop("tags", "").split(";") if t]
            self.store["contacts"][new_id] = {**row, "tags": tags, "id": new_id}
            count += 1
        return self.ok({"id": str(next(self.ids))}, f"{count} subscriber(s) imported successfully")
