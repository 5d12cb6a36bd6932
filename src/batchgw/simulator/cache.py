"""APIM's external cache on a real Redis, with the counters the report needs.

When Redis can't be reached, a lookup is a miss and a store is dropped (APIM's external cache
degrades the same way; docs advise rate limits behind lookups for that reason). The simulator
counts those events instead of failing the request.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING

from batchgw.simulator.errors import UnsupportedPolicyError

if TYPE_CHECKING:
    import redis


class ExternalCache:
    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
            decode_responses=True,
            retry=None,
        )
        # Every key carries a per-run prefix, so a shared Redis (--redis-url) is never flushed.
        self.prefix = prefix if prefix is not None else f"batchgw-sim:{uuid.uuid4().hex[:8]}:"
        self.blackout = False  # simulate an unreachable cache on a Redis we do not own
        self.unavailable = 0
        self._lock = threading.Lock()

    def _down(self) -> None:
        with self._lock:
            self.unavailable += 1

    def get(self, key: str) -> object:
        if self.blackout:
            self._down()
            return None
        try:
            raw = self.client.get(self.prefix + key)
        except self._errors:
            self._down()
            return None
        return None if raw is None else json.loads(str(raw))

    def set(self, key: str, value: object, seconds: int) -> None:
        if not (value is None or isinstance(value, str | int | float | bool)):
            raise UnsupportedPolicyError(
                f"caching a {type(value).__name__} value is not modelled",
                element="cache-store-value",
            )
        if self.blackout:
            self._down()
            return
        try:
            self.client.set(self.prefix + key, json.dumps(value), ex=seconds)
        except self._errors:
            self._down()

    def delete(self, key: str) -> None:
        if self.blackout:
            self._down()
            return
        try:
            self.client.delete(self.prefix + key)
        except self._errors:
            self._down()

    def flush(self) -> int:
        """Delete this run's keys (what a FLUSHDB does to the gateway's records)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            self.client.delete(*keys)
        return len(keys)

    def keys(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for key in self.client.scan_iter(match=self.prefix + "*", count=500):
            raw = self.client.get(key)
            if raw is not None:
                found[str(key)[len(self.prefix) :]] = json.loads(str(raw))
        return found

    def close(self) -> None:
        self.client.close()
