"""A local HTTP server for the download tests: serves one file whole, corrupted or truncated.

    python Tests/Harness/serve.py FILE        # prints the port, then serves until killed or idle for 120 s
    GET /good       the file
    GET /corrupt    the file with bytes changed (same length)
    GET /truncated  announces the full length, sends half, and closes
    GET /missing    404
"""
import http.server, signal, sys, threading

# The test runner starts children with SIGTERM blocked; without this the server would outlive
# the test that stops it, and hold the runner's output open until its idle timer ends.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

DATA = open(sys.argv[1], "rb").read()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
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
