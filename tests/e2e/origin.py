"""A scriptable HTTP origin on loopback for download tests: serves files with validators
(ETag, Last-Modified, 304 on a matching conditional request), and misbehaves on request
(error statuses, a connection cut half-way, a stall, a slow transfer)."""

import email.utils
import hashlib
import http.server
import threading
import time


def send_validated_head(handler, length, etag, modified):
    """Answers 304 to a request whose If-None-Match names `etag`, else sends a 200 head with the
    validators; returns whether the body should follow."""
    if handler.headers.get("If-None-Match") == etag:
        handler.send_response(304)
        handler.send_header("ETag", etag)
        handler.end_headers()
        return False
    handler.send_response(200)
    handler.send_header("Content-Length", str(length))
    handler.send_header("ETag", etag)
    handler.send_header("Last-Modified", modified)
    handler.end_headers()
    return True


class Origin:
    def __init__(self):
        self.files = {}
        self.behaviours = {}
        self.requests = []
        self._stop = threading.Event()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                origin.requests.append((self.path, dict(self.headers)))
                behaviour = origin.behaviours.get(self.path)
                if behaviour is not None:
                    behaviour(self)
                    return
                if self.path not in origin.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, etag, modified = origin.files[self.path]
                if send_validated_head(self, len(body), etag, modified):
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, path, body):
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        self.files[path] = (body, etag, email.utils.formatdate(usegmt=True))

    def status(self, path, code):
        def answer(handler):
            handler.send_response(code)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.behaviours[path] = answer

    def cut(self, path, body):
        """Announces the whole body, sends half of it, and closes the connection."""

        def answer(handler):
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True

        self.behaviours[path] = answer

    def stall(self, path, body):
        """Sends the head and a few bytes, then nothing until the origin stops."""

        def answer(handler):
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[:100])
            handler.wfile.flush()
            self._stop.wait(120)

        self.behaviours[path] = answer

    def trickle(self, path, body, chunk=256 * 1024, delay=0.02):
        """Serves `body` (with validators, answering 304 to a matching conditional request) in
        chunks of `chunk` bytes, `delay` seconds apart: a slow transfer to interrupt."""
        self.put(path, body)
        _, etag, modified = self.files[path]

        def answer(handler):
            if not send_validated_head(handler, len(body), etag, modified):
                return
            try:
                for start in range(0, len(body), chunk):
                    handler.wfile.write(body[start:start + chunk])
                    handler.wfile.flush()
                    time.sleep(delay)
            except (BrokenPipeError, ConnectionResetError):
                handler.close_connection = True

        self.behaviours[path] = answer

    def conditional_requests(self, path):
        return [headers for p, headers in self.requests if p == path and "If-None-Match" in headers]

    def close(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        time.sleep(0.05)
