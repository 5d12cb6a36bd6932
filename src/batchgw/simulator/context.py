"""APIM's `context` object: request, response, variables and the rest, as policies see them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlsplit

from batchgw.simulator.errors import CSharpError, UnsupportedPolicyError
from batchgw.simulator.jtoken import JToken, parse
from batchgw.simulator.values import CsDateTime, CsDict, CsGuid, CsObject, CsTimeSpan


class Headers(CsObject):
    """IReadOnlyDictionary<string, string[]> with case-insensitive names, insertion-ordered."""

    cs_type = "IHeaderDictionary"

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        self._names.setdefault(key, name)
        self._values.setdefault(key, []).append(value)

    def replace(self, name: str, values: list[str]) -> None:
        key = name.lower()
        self._names[key] = name
        self._values[key] = list(values)

    def delete(self, name: str) -> None:
        self._names.pop(name.lower(), None)
        self._values.pop(name.lower(), None)

    def get(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        return ",".join(values) if values else None

    def has(self, name: str) -> bool:
        return name.lower() in self._values

    def items(self) -> list[tuple[str, str]]:
        return [(self._names[k], v) for k, vs in self._values.items() for v in vs]

    def copy(self) -> Headers:
        return Headers(self.items())

    def index(self, name: object) -> list[str]:
        if not isinstance(name, str) or not self.has(name):
            raise CSharpError("KeyNotFoundException", f"header '{name}' was not present")
        return list(self._values[name.lower()])

    @property
    def cs_Count(self) -> int:
        return len(self._values)

    @property
    def cs_Keys(self) -> list[object]:
        return list(self._names.values())

    def call_ContainsKey(self, _t: tuple[str, ...], name: str) -> bool:
        return self.has(name)

    def call_GetValueOrDefault(
        self, _t: tuple[str, ...], name: str, default: object = None
    ) -> object:
        value = self.get(name)
        return default if value is None else value


class Body(CsObject):
    """IMessageBody. Reading without preserveContent consumes it, as in APIM."""

    cs_type = "IMessageBody"

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.consumed = False
        self.reads = 0

    def call_As(self, type_args: tuple[str, ...], preserveContent: bool = False) -> object:
        if len(type_args) != 1:
            raise UnsupportedPolicyError("Body.As needs one type argument")
        data = b"" if self.consumed else self.data
        self.reads += 1
        if not preserveContent:
            self.consumed = True
        target = type_args[0]
        text = data.decode("utf-8", errors="replace")
        if target in ("string", "String"):
            return text
        if target in ("JObject", "JArray", "JToken"):
            if not text.strip():
                return None
            return parse(text, target)
        raise UnsupportedPolicyError(f"Body.As<{target}>() is not modelled")


class Url(CsObject):
    cs_type = "IUrl"

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def _parts(self):  # type: ignore[no-untyped-def]  # urllib's SplitResult, private helper
        return urlsplit(self.url)

    @property
    def cs_Scheme(self) -> str:
        return str(self._parts.scheme)

    @property
    def cs_Host(self) -> str:
        return str(self._parts.hostname or "")

    @property
    def cs_Port(self) -> int:
        port = self._parts.port
        return int(port) if port else (443 if self.cs_Scheme == "https" else 80)

    @property
    def cs_Path(self) -> str:
        return str(self._parts.path)

    @property
    def cs_QueryString(self) -> str:
        query = str(self._parts.query)
        return "?" + query if query else ""

    @property
    def cs_Query(self) -> CsDict:
        grouped: dict[str, object] = {}
        for k, v in parse_qsl(str(self._parts.query), keep_blank_values=True):
            values = grouped.setdefault(k, [])
            assert isinstance(values, list)
            values.append(v)
        return QueryDict(grouped)

    def cs_string(self) -> str:
        return self.url

    def call_ToUri(self, _t: tuple[str, ...]) -> CsUri:
        return CsUri(self.url)


class QueryDict(CsDict):
    """Url.Query: string[] values; GetValueOrDefault joins them like the header dictionary."""

    def call_GetValueOrDefault(
        self, type_args: tuple[str, ...], key: str, default: object = None
    ) -> object:
        found, value = self.lookup(key)
        if not found or not isinstance(value, list):
            return default
        return ",".join(str(v) for v in value)


class CsUri(CsObject):
    cs_type = "Uri"

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def cs_AbsoluteUri(self) -> str:
        return self.url

    @property
    def cs_AbsolutePath(self) -> str:
        return urlsplit(self.url).path

    @property
    def cs_Host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def cs_string(self) -> str:
        return self.url


class Request(CsObject):
    """IRequest. The URL is kept as base + path + query so policies can change each part."""

    cs_type = "IRequest"

    def __init__(
        self, method: str, url: str, headers: Headers, body: bytes, ip_address: str = "127.0.0.1"
    ) -> None:
        self.method = method
        self.base = ""
        self.path = ""
        self.query = ""
        self.url = url
        self.original_url = url
        self.headers = headers
        self.body = Body(body)
        self.matched = CsDict()
        self.ip_address = ip_address
        self.backend_id: str | None = None
        self.backend_base: str | None = None

    @property
    def url(self) -> str:
        query = "?" + self.query if self.query else ""
        return (self.backend_base or self.base) + self.path + query

    @url.setter
    def url(self, value: str) -> None:
        parts = urlsplit(value)
        self.base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
        self.path = parts.path
        self.query = parts.query
        self.backend_base = None

    @property
    def cs_Method(self) -> str:
        return self.method

    @property
    def cs_Url(self) -> Url:
        return Url(self.url)

    @property
    def cs_OriginalUrl(self) -> Url:
        return Url(self.original_url)

    @property
    def cs_Headers(self) -> Headers:
        return self.headers

    @property
    def cs_Body(self) -> Body | None:
        return self.body

    @property
    def cs_MatchedParameters(self) -> CsDict:
        return self.matched

    @property
    def cs_IpAddress(self) -> str:
        return self.ip_address

    @property
    def cs_Certificate(self) -> None:
        return None


class Response(CsObject):
    cs_type = "IResponse"

    def __init__(
        self,
        status: int = 200,
        reason: str = "OK",
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers if headers is not None else Headers()
        self.body = Body(body)

    @property
    def cs_StatusCode(self) -> int:
        return self.status

    @property
    def cs_StatusReason(self) -> str:
        return self.reason

    @property
    def cs_Headers(self) -> Headers:
        return self.headers

    @property
    def cs_Body(self) -> Body:
        return self.body


class Named(CsObject):
    """A plain record of C# properties (Operation, Api, Subscription, Deployment, LastError)."""

    def __init__(self, cs_type: str, **props: object) -> None:
        self.cs_type_name = cs_type
        self.props = props

    def cs_member(self, name: str) -> object:
        if name not in self.props:
            raise UnsupportedPolicyError(f"member `{self.cs_type_name}.{name}` is not modelled")
        return self.props[name]


class Variables(CsDict):
    cs_type = "IReadOnlyDictionary<string, object>"


class Context(CsObject):
    cs_type = "IProxyRequestContext"

    def __init__(
        self,
        request: Request,
        *,
        operation: Named,
        api: Named,
        subscription: Named | None,
        deployment: Named,
    ) -> None:
        self.request = request
        self.response = Response()
        self.variables = Variables()
        self.operation = operation
        self.api = api
        self.subscription = subscription
        self.deployment = deployment
        self.request_id = CsGuid(uuid.uuid4())
        self.started = dt.datetime.now(dt.UTC)
        self.last_error: Named | None = None
        self.trace: object = None  # the simulator's per-request bookkeeping, not C#-visible

    @property
    def cs_Request(self) -> Request:
        return self.request

    @property
    def cs_Response(self) -> Response:
        return self.response

    @property
    def cs_Variables(self) -> Variables:
        return self.variables

    @property
    def cs_Operation(self) -> Named:
        return self.operation

    @property
    def cs_Api(self) -> Named:
        return self.api

    @property
    def cs_Subscription(self) -> Named | None:
        return self.subscription

    @property
    def cs_Deployment(self) -> Named:
        return self.deployment

    @property
    def cs_RequestId(self) -> CsGuid:
        return self.request_id

    @property
    def cs_Timestamp(self) -> CsDateTime:
        return CsDateTime(self.started)

    @property
    def cs_Elapsed(self) -> CsTimeSpan:
        return CsTimeSpan(dt.datetime.now(dt.UTC) - self.started)

    @property
    def cs_LastError(self) -> Named | None:
        return self.last_error

    @property
    def cs_User(self) -> None:
        return None

    @property
    def cs_Product(self) -> None:
        return None

    @property
    def cs_Tracing(self) -> bool:
        return False


def json_body(value: object) -> bytes:
    """How set-body / return-response serialise a value an expression produced."""
    if isinstance(value, JToken):
        return value.to_text(indented=True).encode()
    if isinstance(value, str):
        return value.encode()
    if value is None:
        return b""
    return json.dumps(value).encode()


def escape_path(value: str) -> str:
    return quote(value, safe="")
