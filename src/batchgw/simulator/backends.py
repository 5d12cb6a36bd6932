"""APIM backends: one Single backend per region with a circuit breaker, and the Pool over them."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BreakerRule:
    """The deployed rule: trip after `count` failures (429, 5xx) within `interval` seconds, for
    `trip` seconds or the Retry-After the backend sent. Scenarios shorten `trip`."""

    count: int = 3
    interval: float = 10.0
    trip: float = 30.0
    accept_retry_after: bool = True


@dataclass
class RegionBackend:
    backend_id: str
    region: str
    url: str  # the deployed url, <endpoint>/openai/v1
    local: str  # where the fake region listens, <base>/openai/v1
    rule: BreakerRule
    failures: deque[float] = field(default_factory=deque)
    tripped_until: float = 0.0
    trips: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def available(self) -> bool:
        return time.monotonic() >= self.tripped_until

    def observe(self, status: int, retry_after: str | None) -> None:
        if status != 429 and status < 500:
            return
        now = time.monotonic()
        with self.lock:
            self.failures.append(now)
            while self.failures and self.failures[0] < now - self.rule.interval:
                self.failures.popleft()
            if len(self.failures) < self.rule.count:
                return
            duration = self.rule.trip
            if self.rule.accept_retry_after and retry_after and retry_after.strip().isdigit():
                duration = float(retry_after.strip())
            self.tripped_until = max(self.tripped_until, now + duration)
            self.failures.clear()
            self.trips += 1


@dataclass
class PoolMember:
    backend: RegionBackend
    weight: int
    priority: int


class Pool:
    """Lowest priority group with an available member, weighted random inside it."""

    def __init__(self, backend_id: str, members: list[PoolMember], rng: random.Random) -> None:
        self.backend_id = backend_id
        self.members = members
        self.rng = rng
        self.lock = threading.Lock()

    def choose(self) -> RegionBackend | None:
        open_members = [m for m in self.members if m.backend.available()]
        if not open_members:
            return None
        best = min(m.priority for m in open_members)
        tier = [m for m in open_members if m.priority == best]
        weights = [max(m.weight, 0) for m in tier]
        with self.lock:
            if sum(weights) == 0:
                return self.rng.choice(tier).backend
            return self.rng.choices(tier, weights=weights)[0].backend
