"""One running simulation: Redis, fake regions, the simulated APIM and its HTTP front door."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from batchgw.gateway.apis import ApiSpec, build_apis
from batchgw.gateway.spec import GatewaySpec
from batchgw.simulator.backends import BreakerRule
from batchgw.simulator.cache import ExternalCache
from batchgw.simulator.context import Headers
from batchgw.simulator.gateway import HOP_BY_HOP, SimulatedApim
from batchgw.simulator.redis_server import RedisServer
from batchgw.simulator.regions import Region, World


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many concurrent clients: don't reset connections at accept


@dataclass(frozen=True, slots=True)
class ServedGateway:
    url: str  # the gateway's base url; APIs live under /openai, /openai-sticky, /openai-realtime
    regions: dict[str, str]  # region name -> fake region base url
    subscription_key: str


class Simulation:
    """Everything a scenario or `serve()` needs, started in order and stopped in reverse."""

    def __init__(
        self,
        gateway: GatewaySpec,
        *,
        redis_url: str | None = None,
        port: int = 0,
        seed: int = 0,
        breaker: BreakerRule | None = None,
        apis: tuple[ApiSpec, ...] | None = None,
    ) -> None:
        self.gateway = gateway
        self.redis: RedisServer | None = None
        if redis_url is None:
            self.redis = RedisServer()
            self.redis.start()
            redis_url = self.redis.url
        try:
            self.cache = ExternalCache(redis_url)
            self.world = World(token="")
            self.regions = {r.name: Region(r.name, self.world) for r in gateway.regions}
            for region in self.regions.values():
                region.start()
            self.apim = SimulatedApim(
                gateway,
                # The policies as deploy renders them, or exactly as a deploy sent them.
                apis if apis is not None else build_apis(gateway),
                {name: region.base_url for name, region in self.regions.items()},
                self.cache,
                breaker=breaker,
                seed=seed,
            )
            self.world.token = self.apim.token
            self.server = _Server(("127.0.0.1", port), _front_door(self.apim))
            self.server.daemon_threads = True
            self._thread = threading.Thread(
                target=self.server.serve_forever, daemon=True, name="apim-simulator"
            )
            self._thread.start()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def served(self) -> ServedGateway:
        return ServedGateway(
            self.url, {n: r.base_url for n, r in self.regions.items()}, self.apim.subscription_key
        )

    def cache_down(self) -> None:
        """Make the external cache unreachable: stop our redis-server, or black it out."""
        if self.redis is not None:
            self.redis.stop()
        else:
            self.cache.blackout = True

    def cache_up(self) -> None:
        if self.redis is not None:
            self.redis.start()
        self.cache.blackout = False

    def close(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
        for region in getattr(self, "regions", {}).values():
            region.stop()
        cache = getattr(self, "cache", None)
        if cache is not None:
            cache.close()
        if self.redis is not None:
            self.redis.close()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _front_door(apim: SimulatedApim) -> type[BaseHTTPRequestHandler]:
    class FrontDoor(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            body = self._body()
            headers = Headers(self.headers.items())
            response = apim.handle(self.command, self.path, headers, body)
            data = response.body.data
            self.send_response(response.status, response.reason or None)
            for name, value in response.headers.items():
                # send_response already wrote this server's own Server and Date.
                if name.lower() not in HOP_BY_HOP | {"server", "date"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

    return FrontDoor
