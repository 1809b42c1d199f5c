"""A local HTTP server for the download tests: serves one file whole, corrupted or truncated,
and a folder's files by name.

    python Tests/Harness/serve.py FILE [FOLDER]   # prints the port, then serves until killed or idle for 120 s
    GET /good         the file
    GET /corrupt      the file with bytes changed (same length)
    GET /truncated    announces the full length, sends half, and closes
    GET /missing      404
    GET /files/NAME   FOLDER/NAME whole (404 when there is none)
"""
import http.server, os, signal, sys, threading

# The test runner starts children with SIGTERM blocked; without this the server would outlive
# the test that stops it, and hold the runner's output open until its idle timer ends.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

DATA = open(sys.argv[1], "rb").read()
FOLDER = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
            return
        if self.path.startswith("/files/"):
            name = os.path.basename(self.path)
            path = os.path.join(FOLDER or "", name)
            if not FOLDER or not os.path.isfile(path):
                self.send_error(404)
                return
            body = open(path, "rb").read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = DATA
        if self.path == "/corrupt":
            body = bytearray(DATA)
            body[len(body) // 2] ^= 0xFF
            body = bytes(body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(DATA)))
        self.end_headers()
        if self.path == "/truncated":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
