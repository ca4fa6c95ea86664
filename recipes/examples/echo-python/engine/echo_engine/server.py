"""HTTP front of the echo engine: GET /health, POST /generate {"prompt"|"tokens", "max_tokens"}."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from echo_engine import __version__
from echo_engine.engine import generate, tokenize


class Handler(BaseHTTPRequestHandler):
    server_version = f"echo-engine/{__version__}"

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self._send(200, {"status": "ok", "version": __version__})
        else:
            self._send(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        if self.path != "/generate":
            self._send(404, {"error": f"no route {self.path}"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            req = json.loads(self.rfile.read(length) or b"{}")
            tokens = req["tokens"] if "tokens" in req else tokenize(str(req.get("prompt", "")))
            self._send(200, generate(tokens, int(req.get("max_tokens", 16))))
        except (ValueError, KeyError, TypeError) as e:
            self._send(400, {"error": str(e)})

    def log_message(self, fmt, *args):
        sys.stderr.write("echo-engine: " + (fmt % args) + "\n")


def serve_forever(host, port):
    httpd = ThreadingHTTPServer((host, port), Handler)
    print(f"echo-engine {__version__} listening on {host}:{port}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
