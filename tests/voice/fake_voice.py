"""A stateful fake of BICS's voice (Engage) API over real HTTP on loopback.

Paths come from ``bics.routes.ROUTES`` (so it serves whatever the client calls). It counts
every call placed per number (``calls_to``), so tests can assert that nobody is called twice,
and it can lose its answer after processing a request (``lose_next``) to simulate a timeout
whose outcome is unknown.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from bics.routes import ROUTES

PREFIX = "/api/v2/"


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


VOICE_ROUTES = [(name, r.method, _pattern(r.path)) for name, r in ROUTES.items() if name.startswith("voice.")]


class FakeVoiceBics:
    def __init__(self):
        self.lock = threading.Lock()
        self.ids = itertools.count(5000)
        self.calls: list[dict] = []  # every call placed (single, TTS, click2call, bulk items)
        self.requests: list[tuple[str, dict]] = []  # (route, body/query)
        self.unsubscribers: dict[str, dict] = {}
        self.logs: list[dict] = []
        self.recordings: list[dict] = []
        self.prices: list[dict] = [
            {"iso": "BE", "country": "Belgium", "service": "VOICE", "subservice": "OBD",
             "price": "0.0500", "currency": "EUR", "status": "1"},
            {"iso": "FR", "country": "France", "service": "VOICE", "subservice": "OBD",
             "price": "0.0700", "currency": "EUR", "status": "1"},
        ]
        self.sounds: list[dict] = []
        self.imports: list[bytes] = []
        self.per_page = 2
        self.lose_next: set[str] = set()  # route names whose next answer is lost (after work)
        self.refuse_next: dict[str, int] = {}  # route name -> HTTP status to answer once
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
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = parts.path[len(PREFIX):] if parts.path.startswith(PREFIX) else parts.path
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                for name, method, pattern in VOICE_ROUTES:  # noqa: B007 - name used below
                    match = pattern.match(path)
                    if match and method == self.command:
                        break
                else:
                    self._reply(404, {"status": "ERROR", "code": 404, "message": f"no route {path}"})
                    return
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("multipart/"):
                    body = fake._multipart(ctype, raw)
                elif raw:
                    body = json.loads(raw)
                else:
                    body = {}
                with fake.lock:
                    fake.requests.append((name, body if self.command != "GET" else query))
                    refuse = fake.refuse_next.pop(name, None)
                if refuse:
                    self._reply(refuse, {"status": "ERROR", "code": refuse, "message": "refused",
                                         "errors": {"to": ["invalid"]}})
                    return
                status, answer = fake.dispatch(name, match.groupdict(), query, body)
                with fake.lock:
                    lose = name in fake.lose_next
                    fake.lose_next.discard(name)
                if lose:  # the work is done, the answer never arrives
                    time.sleep(3)
                    self.close_connection = True
                    return
                self._reply(status, answer)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _multipart(ctype: str, raw: bytes) -> dict:
        msg = BytesParser(policy=default_policy).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        out = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            out[name] = part.get_content() if part.get_filename() is None else part.get_payload(decode=True)
        return out

    def calls_to(self) -> Counter:
        return Counter(c["mobile"] for c in self.calls)

    def _place(self, mobile: str, **extra) -> dict:
        call = {"id": str(uuid.uuid4()), "mobile": str(mobile), "status": "ANSWER",
                "start_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "end_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "duration": 12, **extra}
        with self.lock:
            self.calls.append(call)
        return call

    def _page(self, items: list, query: dict, message="OK") -> tuple[int, dict]:
        page = int(query.get("page") or 1)
        per = int(query.get("per_page") or self.per_page)
        last = max(1, (len(items) + per - 1) // per)
        chunk = items[(page - 1) * per: page * per]
        return 200, {"code": 200, "data": chunk, "links": {}, "message": message,
                     "meta": {"current_page": page, "last_page": last, "total": len(items)},
                     "status": "OK"}

    # ------------------------------------------------------------------ routes
    def dispatch(self, name: str, path: dict, query: dict, body: dict):  # noqa: C901, PLR0911, PLR0912
        if name in ("voice.calls.create", "voice.tts.create"):
            if not body.get("bridge") or not body.get("to"):
                return 422, {"status": "ERROR", "code": 422, "message": "bridge and to are required"}
            call = self._place(body["to"], cid=body.get("cid"), kind=name, request=body)
            return 200, {"data": [{"id": call["id"], "to": body["to"], "status": "queued"}],
                         "message": "Calls queued successfully", "status": "OK"}
        if name == "voice.click2call.create":
            call = self._place(body["from"], cid=body.get("mid"), kind=name, request=body)
            return 200, {"callId": call["id"], "message": "call initiated successfully", "status": 200}
        if name == "voice.bulk_calls.create":
            group = str(uuid.uuid4())
            items = body.get("payload") or []
            for item in items:
                self._place(item["to"], group_id=group, name=body.get("name"), kind=name, request=item)
            return 200, {"status": "OK", "code": 200, "message": f"{len(items)} numbers queued successfully.",
                         "group_id": group, "total": len(items), "data": []}
        if name == "voice.calls.status":
            found = list(self.calls)
            if query.get("id"):
                found = [c for c in found if c["id"] == query["id"]]
            if query.get("cid"):
                found = [c for c in found if c.get("cid") == query["cid"]]
            if query.get("mobile"):
                found = [c for c in found if c["mobile"] == query["mobile"]]
            if query.get("date"):
                found = [c for c in found if c["start_at"].startswith(query["date"])]
            data = [{k: c.get(k) for k in ("id", "cid", "mobile", "status", "start_at", "end_at",
                                           "duration", "group_id", "name")} for c in found]
            return 200, {"data": data, "message": "OK", "status": 200}
        if name == "voice.call_logs.list":
            return self._page(self.logs, query)
        if name == "voice.recordings.list":
            return self._page(self.recordings, query)
        if name == "voice.pricing.list":
            return self._page(self.prices, query, "Pricing List")
        if name == "voice.sound_files.create":
            sound = {"id": str(next(self.ids)), "name": body.get("name"), "size": len(body.get("audio") or b"")}
            self.sounds.append(sound)
            return 200, {"code": 200, "data": {"id": sound["id"], "name": sound["name"]},
                         "message": "Sound uploaded successfully", "status": "OK"}
        return self._unsubscribers(name, path, query, body)

    def _unsubscribers(self, name, path, query, body):
        action = name.rsplit(".", 1)[-1]
        if action == "list":
            items = list(self.unsubscribers.values())
            if query.get("filter[receiver]"):
                items = [u for u in items if u["receiver"] == query["filter[receiver]"]]
            return self._page(items, query, "Unsubscribers list")
        if action == "create":
            item = {"id": str(next(self.ids)), "receiver": body["receiver"], "type": body.get("type", "all"),
                    "value": body.get("value", ""), "iso": "BE"}
            self.unsubscribers[item["id"]] = item
            return 200, {"code": 200, "data": item, "message": "Receiver added successfully", "status": "OK"}
        if action == "clean":
            self.unsubscribers.clear()
            return 200, {"code": 200, "data": [], "message": "Deleted Successfully", "status": "OK"}
        if action == "import":
            self.imports.append(body.get("file") or b"")
            return 200, {"message": "Receivers accepted for import", "status": "OK"}
        item = self.unsubscribers.get(path.get("id"))
        if item is None:
            return 404, {"status": "ERROR", "code": 404, "message": "Not found"}
        if action == "get":
            return 200, {"code": 200, "data": item, "message": "Unsubscribers data", "status": "OK"}
        if action == "update":
            item.update({k: body[k] for k in ("receiver", "type", "value") if k in body})
            return 200, {"code": 200, "data": item, "message": "Receiver update successfully", "status": "OK"}
        if action == "delete":
            del self.unsubscribers[path["id"]]
            return 200, {"code": 200, "data": [], "message": "Deleted Successfully", "status": "OK"}
        return 404, {"status": "ERROR", "code": 404, "message": "unknown"}
