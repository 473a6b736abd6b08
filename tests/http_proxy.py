"""A counting, fault-injecting HTTP proxy in front of a real `mlflow server`: it forwards
every request, records (method, path) of each, and can answer the first requests whose path
matches with a 503 or a dropped connection after the server has handled them (an answer
lost on the way back: the client's retry sends the same request again)."""
import contextlib
import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te",
              "trailer", "upgrade"}


class Proxy:
    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.requests = []     # (method, path) of every request received
        self.bodies = []       # the body of each
        self.faulted = []      # the index in requests of each answer replaced
        self.faults = []       # [path part, "503" or "drop", times left]
        self.lock = threading.Lock()

    def fail(self, path_part, how, times=1):
        """The next `times` requests whose path contains path_part reach the server, then
        their answer is replaced: by a 503 ("503") or by a closed connection ("drop")."""
        self.faults.append([path_part, how, times])

    def count(self, path_part=""):
        return sum(path_part in p for _, p in self.requests)

    def _fault_for(self, path):
        with self.lock:
            for fault in self.faults:
                if fault[0] in path and fault[2] > 0:
                    fault[2] -= 1
                    return fault[1]
        return None

    def handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    index = len(proxy.requests)
                    proxy.requests.append((self.command, self.path))
                    proxy.bodies.append(body)
                conn = http.client.HTTPConnection(proxy.upstream.hostname,
                                                  proxy.upstream.port, timeout=120)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                fault = proxy._fault_for(self.path)
                if fault:
                    with proxy.lock:
                        proxy.faulted.append(index)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "503":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler


@contextlib.contextmanager
def proxy_to(upstream):
    """A Proxy listening on 127.0.0.1 (a free port) in front of upstream; yields
    (proxy, its http URI)."""
    proxy = Proxy(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
