"""A small HTTP client for scenario workflows: retries 429/503 like a well-behaved SDK."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

from batchgw.simulator.simulation import ServedGateway

RETRYABLE = {429, 500, 502, 503, 504}


class GatewayCallError(Exception):
    """A workflow step failed for good (after retries) or broke a routing rule."""


class Client:
    def __init__(self, served: ServedGateway, *, attempts: int = 12) -> None:
        parts = urlsplit(served.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.key = served.subscription_key
        self.attempts = attempts

    def call(
        self,
        api: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {
            "Ocp-Apim-Subscription-Key": self.key,
            "api-key": "client-secret-never-forwarded",
            **(headers or {}),
        }
        for attempt in range(self.attempts):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request(method, f"/{api}{path}", body=body or None, headers=sent)
                raw = conn.getresponse()
                data = raw.read()
                got = {k.lower(): v for k, v in raw.getheaders()}
            except OSError:
                if attempt == self.attempts - 1:
                    raise
                time.sleep(0.05)
                continue
            finally:
                conn.close()
            if raw.status not in RETRYABLE or attempt == self.attempts - 1:
                return raw.status, got, data
            wait = float(got.get("retry-after", "0.1") or 0.1)
            time.sleep(min(max(wait, 0.05), 1.0) * (1 + attempt / 4))
        raise AssertionError("unreachable")

    def _ok(self, what: str, status: int, data: bytes) -> None:
        if status != 200:
            raise GatewayCallError(f"{what}: HTTP {status}: {data[:200]!r}")

    def json(
        self,
        api: str,
        method: str,
        path: str,
        payload: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[dict[str, object], str]:
        body = b"" if payload is None else json.dumps(payload).encode()
        sent = {"Content-Type": "application/json", **(headers or {})} if body else headers
        status, got, data = self.call(api, method, path, body, sent)
        self._ok(f"{method} /{api}{path}", status, data)
        return json.loads(data), got.get("x-backend-region", "")

    def raw(
        self, api: str, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[bytes, str]:
        status, got, data = self.call(api, method, path, b"", headers)
        self._ok(f"{method} /{api}{path}", status, data)
        return data, got.get("x-backend-region", "")

    def upload(self, api: str, filename: str, content: bytes) -> tuple[dict[str, object], str]:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{filename}"\r\nContent-Type: application/jsonl\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, got, data = self.call(api, "POST", "/files", body, headers)
        self._ok(f"upload to /{api}", status, data)
        region = got.get("x-backend-region", "")
        if not region:
            raise GatewayCallError("upload answered without x-backend-region")
        return json.loads(data), region

    def stream(
        self, api: str, path: str, payload: dict[str, object], headers: dict[str, str]
    ) -> tuple[str, str]:
        status, got, data = self.call(
            api,
            "POST",
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **headers},
        )
        self._ok(f"stream /{api}{path}", status, data)
        for block in data.decode().split("\n\n"):
            for line in block.splitlines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event.get("type") == "response.completed":
                        return str(event["response"]["id"]), got.get("x-backend-region", "")
        raise GatewayCallError("stream ended without response.completed")

    @staticmethod
    def expect_region(actual: str, expected: str, what: str) -> None:
        if actual != expected:
            raise GatewayCallError(f"{what} answered from `{actual}`, expected `{expected}`")
