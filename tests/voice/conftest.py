"""Fixtures for the voice tests: a local audio file server (sound URLs are fetched and
checked before a sound is created at BICS). BICS itself is the sandbox (``bics_sandbox``)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

AUDIO = b"ID3\x03\x00\x00\x00" + b"\x00" * 2048


@pytest.fixture(scope="session")
def audio_server():
    """Serves /ok.mp3 (audio/mpeg), /page.html (text/html) and 404 elsewhere."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            routes = {"/ok.mp3": ("audio/mpeg", AUDIO), "/hello.wav": ("audio/wav", AUDIO),
                      "/page.html": ("text/html; charset=utf-8", b"<html></html>")}
            if self.path not in routes:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            ctype, body = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
