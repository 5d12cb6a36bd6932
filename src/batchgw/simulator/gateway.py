"""The simulated APIM service: APIs and operations, backends, external cache, managed identity.

It runs each API's policy document exactly as `build_apis` rendered it. Backend urls and
send-request urls point at the deployed foundry endpoints; the simulator's HTTP layer sends them
to the fake region listening for that endpoint (a DNS override, in effect).
"""

from __future__ import annotations

import http.client
import random
import re
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from batchgw.simulator.backends import BreakerRule, Pool, PoolMember, RegionBackend
from batchgw.simulator.cache import ExternalCache
from batchgw.simulator.context import Context, Headers, Named, Request, Response
from batchgw.simulator.errors import PolicyError, UnsupportedPolicyError
from batchgw.simulator.policy import GLOBAL_POLICY, PolicyDocument
from batchgw.simulator.regions import ORIGIN_HEADER

if TYPE_CHECKING:
    from batchgw.gateway.apis import ApiSpec, OperationSpec
    from batchgw.gateway.spec import GatewaySpec

MI_RESOURCE = "https://cognitiveservices.azure.com"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "content-length",
    "proxy-authorization",
    "proxy-authenticate",
    "trailer",
    ORIGIN_HEADER,
}


@dataclass
class OpStats:
    requests: int = 0
    lookups: int = 0
    hits: int = 0
    misses: int = 0
    stores: int = 0
    removes: int = 0
    repairs: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    max_lookups: int = 0


@dataclass
class Trace:
    """What one request did with the cache."""

    kind: str
    pinned: bool = False
    missed: set[str] = field(default_factory=set)
    lookups: int = 0
    forwarded: list[str] = field(default_factory=list)


@dataclass
class _Api:
    spec: ApiSpec
    policy: PolicyDocument
    operations: list[tuple[re.Pattern[str], OperationSpec]]


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex + "$")


class SimulatedApim:
    def __init__(
        self,
        gateway: GatewaySpec,
        apis: tuple[ApiSpec, ...],
        region_bases: dict[str, str],
        cache: ExternalCache,
        *,
        breaker: BreakerRule | None = None,
        seed: int = 0,
    ) -> None:
        self.gateway = gateway
        self.cache = cache
        self.subscription_key = secrets.token_hex(16)
        self.token = "mi-" + secrets.token_hex(16)
        self.rng = random.Random(seed)
        rule = breaker or BreakerRule()
        self.backends: dict[str, RegionBackend] = {}
        self.url_map: list[tuple[str, str]] = []
        for region in gateway.regions:
            local = region_bases[region.name].rstrip("/") + "/openai/v1"
            url = region.url.rstrip("/")
            self.backends[region.backend_id] = RegionBackend(
                region.backend_id, region.name, url, local, rule
            )
            self.url_map.append((url, local))
        self.pool = Pool(
            gateway.pool_backend_id,
            [
                PoolMember(self.backends[r.backend_id], r.weight, r.priority)
                for r in gateway.regions
            ],
            self.rng,
        )
        global_policy = PolicyDocument(GLOBAL_POLICY, name="global")
        self.apis = sorted(
            (
                _Api(
                    api,
                    PolicyDocument(
                        _well_formed(api.policy_xml), parent=global_policy, name=api.api_id
                    ),
                    [(_template_pattern(op.url_template), op) for op in api.operations],
                )
                for api in apis
            ),
            key=lambda a: -len(a.spec.path),
        )
        self.stats: dict[str, OpStats] = defaultdict(OpStats)
        self.unsupported: list[str] = []
        self.cache_unavailable_base = 0
        self.upload_body_reads = 0
        self.failovers: dict[str, int] = defaultdict(int)
        self.forbidden_failovers: list[str] = []
        self.lock = threading.Lock()

    # ------------------------------------------------------------ requests

    def handle(self, method: str, target: str, headers: Headers, body: bytes) -> Response:
        path, _, query = target.partition("?")
        found = self._match(method, path)
        if found is None:
            return _json_response(404, {"statusCode": 404, "message": "Resource not found"})
        api, op, params = found
        if headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key:
            return _json_response(
                401,
                {
                    "statusCode": 401,
                    "message": (
                        "Access denied due to missing or invalid subscription key. Make sure to "
                        "include "
                        "subscription key when making requests to an API."
                    ),
                },
            )
        kind = f"{api.spec.path} {op.operation_id}"
        request = Request(method, "", headers, body)
        request.base = "https://apim.simulator/" + api.spec.path
        request.path = path[len(api.spec.path) + 1 :]
        request.query = query
        request.original_url = f"https://apim.simulator{target}"
        for name, value in params.items():
            request.matched.put(name, value)
        ctx = Context(
            request,
            operation=Named(
                "Operation",
                Id=op.operation_id,
                Name=op.display_name,
                Method=op.method,
                UrlTemplate=op.url_template,
            ),
            api=Named("Api", Id=api.spec.api_id, Name=api.spec.display_name, Path=api.spec.path),
            subscription=Named(
                "Subscription", Id="simulator", Key=self.subscription_key, Name="simulator"
            ),
            deployment=Named(
                "Deployment",
                Region="simulator",
                ServiceName="apim-simulator",
                ServiceId="apim-simulator",
                GatewayId="managed",
            ),
        )
        trace = Trace(kind, pinned=headers.has("x-backend-region"))
        ctx.trace = trace
        try:
            response = api.policy.run(ctx, self)
        except UnsupportedPolicyError as exc:
            with self.lock:
                self.unsupported.append(str(exc))
            return _json_response(
                500,
                {"statusCode": 500, "message": f"simulator: {exc}"},
                {"x-simulator-error": "unsupported"},
            )
        with self.lock:
            stats = self.stats[kind]
            stats.requests += 1
            stats.statuses[response.status] += 1
            stats.max_lookups = max(stats.max_lookups, trace.lookups)
            if op.operation_id == "files-create" and request.body.reads:
                self.upload_body_reads += 1
            if len(set(trace.forwarded)) > 1:
                self.failovers[kind] += 1
                if (
                    trace.pinned
                    or op.template_parameters
                    or op.operation_id == "files-create"
                    or (api.spec.path == "openai-sticky")
                ):
                    self.forbidden_failovers.append(f"{kind}: {' -> '.join(trace.forwarded)}")
        return response

    def _match(self, method: str, path: str) -> tuple[_Api, OperationSpec, dict[str, str]] | None:
        for api in self.apis:
            prefix = "/" + api.spec.path
            if path != prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix) :] or "/"
            for pattern, op in api.operations:
                match = pattern.match(rest)
                if match and op.method == method:
                    return api, op, match.groupdict()
            return None
        return None

    # ------------------------------------------------------------ Services

    def backend_url(self, backend_id: str) -> str | None:
        if backend_id == self.pool.backend_id:
            return f"https://{backend_id}.pool"
        backend = self.backends.get(backend_id)
        return None if backend is None else backend.url

    def managed_identity_token(self, resource: str) -> str:
        if resource.rstrip("/") != MI_RESOURCE:
            return "mi-wrong-audience"
        return self.token

    def forward(self, ctx: Context, *, timeout: float, buffered: bool) -> Response:
        request = ctx.request
        backend: RegionBackend | None
        if request.backend_id == self.pool.backend_id:
            backend = self.pool.choose()
            if backend is None:
                return _json_response(
                    503,
                    {
                        "statusCode": 503,
                        "message": ("Service unavailable: no backend in the pool is available"),
                    },
                )
        elif request.backend_id is not None:
            backend = self.backends[request.backend_id]
            if not backend.available():
                return _json_response(
                    503,
                    {
                        "statusCode": 503,
                        "message": ("Service unavailable: the backend circuit breaker is open"),
                    },
                )
        else:
            raise PolicyError(
                "forward-request",
                "BackendNotSet",
                "no backend: the API has no service url and no set-backend-service",
            )
        query = "?" + request.query if request.query else ""
        body = b"" if request.body.consumed else request.body.data
        response = self._http(
            request.method,
            backend.local + request.path + query,
            request.headers,
            body,
            timeout,
            "forward-request",
        )
        backend.observe(response.status, response.headers.get("Retry-After"))
        self._trace(ctx).forwarded.append(backend.region)
        return response

    def send(self, request: Request, timeout: float) -> Response:
        url = request.url
        for deployed, local in self.url_map:
            if url == deployed or url.startswith(deployed + "/"):
                return self._http(
                    request.method,
                    local + url[len(deployed) :],
                    request.headers,
                    request.body.data,
                    timeout,
                    "send-request",
                )
        raise PolicyError("send-request", "ConnectionFailure", f"no such host for `{url}`")

    def _http(
        self, method: str, url: str, headers: Headers, body: bytes, timeout: float, origin: str
    ) -> Response:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        out[ORIGIN_HEADER] = origin
        out["Content-Length"] = str(len(body))
        target = parts.path + ("?" + parts.query if parts.query else "")
        try:
            conn.request(
                method, target, body=body if body or method != "GET" else None, headers=out
            )
            raw = conn.getresponse()
            data = raw.read()
        except OSError as exc:
            raise PolicyError(origin, "BackendConnectionFailure", str(exc)) from exc
        finally:
            conn.close()
        received = Headers((k, v) for k, v in raw.getheaders() if k.lower() not in HOP_BY_HOP)
        return Response(raw.status, raw.reason, received, data)

    def _trace(self, ctx: Context) -> Trace:
        assert isinstance(ctx.trace, Trace)
        return ctx.trace

    def cache_get(self, ctx: Context, key: str) -> object:
        trace = self._trace(ctx)
        value = self.cache.get(key)
        trace.lookups += 1
        with self.lock:
            stats = self.stats[trace.kind]
            stats.lookups += 1
            if value is None:
                stats.misses += 1
                trace.missed.add(key)
            else:
                stats.hits += 1
        return value

    def cache_set(self, ctx: Context, key: str, value: object, seconds: int) -> None:
        trace = self._trace(ctx)
        self.cache.set(key, value, seconds)
        with self.lock:
            stats = self.stats[trace.kind]
            stats.stores += 1
            if key in trace.missed:
                stats.repairs += 1

    def cache_delete(self, ctx: Context, key: str) -> None:
        self.cache.delete(key)
        with self.lock:
            self.stats[self._trace(ctx).kind].removes += 1


def _json_response(
    status: int, payload: dict[str, object], extra: dict[str, str] | None = None
) -> Response:
    import json

    headers = Headers([("Content-Type", "application/json"), *(extra or {}).items()])
    return Response(
        status, http.client.responses.get(status, ""), headers, json.dumps(payload).encode()
    )


def _well_formed(xml: str) -> str:
    """Policies are sent as `format=xml`; a raw (rawxml-style) text is escaped the way APIM reads
    it, using the gateway package's own escaper."""
    import xml.etree.ElementTree as ET

    try:
        ET.fromstring(xml)
    except ET.ParseError:
        from batchgw.gateway.expressions import escape_expressions

        return escape_expressions(xml)
    return xml
