"""Serve a FakeArm over HTTPS on 127.0.0.1 with a throw-away test CA (trustme)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from tests.fakes.arm import FakeArm


@dataclass(frozen=True, slots=True)
class ServedArm:
    base_url: str  # https://127.0.0.1:PORT
    ca_file: Path  # PEM to trust: REQUESTS_CA_BUNDLE / verify=


class _Server(ThreadingHTTPServer):
    # A plan opens dozens of connections at once; the default backlog of 5 drops some SYNs,
    # and each dropped one costs the client a 1 s retransmit.
    request_queue_size = 128
    daemon_threads = True


def _handler_class(fake: FakeArm, base_url: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate TLS records: without TCP_NODELAY, Nagle holds
        # the body until the client's delayed ACK (~40 ms per response).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            status, headers, payload = fake.handle(
                self.command, base_url + self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _serve

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean; FakeArm.calls records every request

    return Handler


@contextmanager
def serve_https(fake: FakeArm, tmp_dir: Path) -> Iterator[ServedArm]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_dir / "fake-arm-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base_url = f"https://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = _handler_class(fake, base_url)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    # shutdown() waits for the loop's next poll: 0.5 s by default, on every exit.
    thread = threading.Thread(
        target=partial(server.serve_forever, poll_interval=0.05), name="fake-arm-https", daemon=True
    )
    thread.start()
    try:
        yield ServedArm(base_url, ca_file)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
