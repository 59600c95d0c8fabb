"""A loopback HTTP server (127.0.0.1 only) serving ``../shared/reference/`` with injectable faults.

URL paths are ``/<fault>/<path under reference/>`` (``extra/<path>``: a file the test put in ``server.extra``).
Faults: ``ok`` (Range supported), ``drop`` (first request per file closes the connection half-way), ``wrong`` (one
byte flipped), ``flaky`` (first request per file answers HTTP 500), ``norange`` (Range ignored, first request
drops half-way), ``stall`` (first request stops sending half-way for 1.5 s), ``gdrive`` (``/gdrive/uc?id=<path>``
answers a Google-Drive-style confirmation page whose form leads to ``/gdrive/download?id=<path>&confirm=t&uuid=..``),
``badrange`` (drops half-way, then answers every Range request with the whole file as 206), ``html`` (an HTML page
without a way on).
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from shared_reference import REFERENCE

_UUID = "6c1b0e1c-test"
_CONFIRM_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
<p>Google Drive can't scan this file for viruses.</p>
<form id="download-form" action="/gdrive/download" method="get">
<input type="submit" value="Download anyway"/><input type="hidden" name="id" value="{id}">
<input type="hidden" name="export" value="download"><input type="hidden" name="confirm" value="t">
<input type="hidden" name="uuid" value="{uuid}"></form></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        fault, _, rel = url.path.lstrip("/").partition("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((fault, rel, self.headers.get("Range"), query))
        first = self.server.seen[(fault, rel, query.get("id"))] == 0
        self.server.seen[(fault, rel, query.get("id"))] += 1
        if fault == "gdrive":
            if rel == "uc":
                page = _CONFIRM_PAGE.format(id=query.get("id", ""), uuid=_UUID).encode()
                return self._send(200, page, "text/html; charset=utf-8")
            if query.get("confirm") != "t" or query.get("uuid") != _UUID:
                return self._send(403, b"forbidden", "text/plain")
            rel = query.get("id", "")
        if fault == "html":
            return self._send(200, b"<html><body>Sign in to continue</body></html>", "text/html")
        path = self.server.extra / rel[6:] if rel.startswith("extra/") else REFERENCE / rel
        if not rel or ".." in rel.split("/") or not path.is_file():
            return self._send(404, b"not found", "text/plain")
        data = path.read_bytes()
        if fault == "flaky" and first:
            return self._send(500, b"try again", "text/plain")
        if fault == "wrong":
            data = data[:10] + bytes([data[10] ^ 0xFF]) + data[11:]
        if fault == "badrange" and self.headers.get("Range"):
            return self._send(206, data, "application/octet-stream",
                              {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"})
        if fault in ("drop", "norange", "stall", "badrange") and first:
            return self._drop(data, stall=fault == "stall")
        start = self._range_start() if fault != "norange" else None
        if start is not None and start >= len(data):
            return self._send(416, b"", "text/plain")
        if start is not None:
            return self._send(206, data[start:], "application/octet-stream",
                              {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        self._send(200, data, "application/octet-stream")

    def _range_start(self):
        spec = self.headers.get("Range")
        if spec and spec.startswith("bytes=") and spec.endswith("-"):
            return int(spec[6:-1])
        return None

    def _send(self, code, body, content_type, headers=None):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self, data, stall=False):
        """Announce the whole file, send half of it, (stall for 1.5 s,) close the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        if stall:
            time.sleep(1.5)
        self.close_connection = True


@pytest.fixture
def http_server(tmp_path):
    """The server (``.base`` URL); ``.requests`` lists (fault, path, Range header, query) per request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.extra = tmp_path / "served"
    server.extra.mkdir()
    server.daemon_threads = True
    server.requests, server.seen = [], defaultdict(int)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(120, server.shutdown)  # stops by itself should a test hang
    watchdog.daemon = True
    watchdog.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    watchdog.cancel()
    server.shutdown()
    server.server_close()
    thread.join(5)
