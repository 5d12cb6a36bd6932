"""The APIM policy interpreter: inbound -> backend -> outbound, errors to on-error.

A `PolicyDocument` is parsed once (every expression compiled, every element checked against the
modelled set) and then run per request against a `Context` and the `Services` it needs (backends,
cache, HTTP, managed identity), which the gateway provides.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from batchgw.simulator import runtime as rt
from batchgw.simulator.context import Body, Context, Headers, Named, Request, Response, json_body
from batchgw.simulator.csharp import Expression, is_expression
from batchgw.simulator.errors import CSharpError, PolicyError, UnsupportedPolicyError

SECTIONS = ("inbound", "backend", "outbound", "on-error")
GLOBAL_POLICY = (
    "<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>"
)


class Services(Protocol):
    """What the interpreter needs from the simulated APIM service."""

    def forward(self, ctx: Context, *, timeout: float, buffered: bool) -> Response: ...

    def send(self, request: Request, timeout: float) -> Response: ...

    def cache_get(self, ctx: Context, key: str) -> object: ...

    def cache_set(self, ctx: Context, key: str, value: object, seconds: int) -> None: ...

    def cache_delete(self, ctx: Context, key: str) -> None: ...

    def managed_identity_token(self, resource: str) -> str: ...

    def backend_url(self, backend_id: str) -> str | None: ...


class _ReturnResponse(Exception):
    """return-response: the pipeline ends and this response goes to the caller."""


@dataclass
class RequestState:
    """Per-request interpreter state that is not visible to expressions."""

    ctx: Context
    services: Services
    forwarded: int = 0


Handler = Callable[["PolicyDocument", ET.Element, RequestState, str], None]


class PolicyDocument:
    """One `<policies>` document (API scope), with its parent scope (global) for `<base />`."""

    def __init__(self, xml: str, *, parent: PolicyDocument | None = None, name: str = "") -> None:
        self.name = name
        try:
            root = ET.fromstring(xml)
        except ET.ParseError as exc:
            raise UnsupportedPolicyError(f"policy {name} is not well-formed XML: {exc}") from None
        if root.tag != "policies":
            raise UnsupportedPolicyError(f"policy {name}: root is <{root.tag}>, not <policies>")
        self.sections = {tag: root.find(tag) for tag in SECTIONS}
        self.parent = parent
        self.expressions: dict[str, Expression] = {}
        for section in self.sections.values():
            if section is not None:
                self._check(section)

    # ------------------------------------------------------------ loading

    def _check(self, section: ET.Element) -> None:
        for el in section:
            if el.tag not in HANDLERS and el.tag not in _CHILD_ONLY:
                raise UnsupportedPolicyError("policy element is not modelled", element=el.tag)
            for attr, value in el.attrib.items():
                if is_expression(value):
                    self._compile(value, f"{el.tag} {attr}")
                elif "{{" in value:
                    raise UnsupportedPolicyError(
                        "named values are not modelled", element=el.tag, expression=value
                    )
            if el.text and is_expression(el.text):
                self._compile(el.text, el.tag)
            self._check(el)

    def _compile(self, text: str, where: str) -> Expression:
        found = self.expressions.get(text)
        if found is None:
            try:
                found = Expression(text)
            except UnsupportedPolicyError as exc:
                raise exc.located(where, text) from None
            self.expressions[text] = found
        return found

    # ------------------------------------------------------------ running

    def run(self, ctx: Context, services: Services) -> Response:
        """The whole pipeline for one request; returns what the caller receives."""
        state = RequestState(ctx, services)
        try:
            for section in ("inbound", "backend", "outbound"):
                self.run_section(section, state)
        except _ReturnResponse:
            pass
        except PolicyError as err:
            ctx.last_error = Named(
                "LastError",
                Source=err.source,
                Reason=err.reason,
                Message=err.message,
                Scope="api",
                Section="",
                Path="",
                PolicyId="",
            )
            ctx.response = Response(
                500,
                "Internal Server Error",
                Headers([("Content-Type", "application/json")]),
                b'{"statusCode": 500, "message": "Internal server error"}',
            )
            try:
                self.run_section("on-error", state)
            except _ReturnResponse:
                pass
            except PolicyError:
                pass  # an error inside on-error ends it; APIM answers with what it has
        return ctx.response

    def run_section(self, section: str, state: RequestState) -> None:
        node = self.sections.get(section)
        if node is None:
            if section == "backend" and self.parent is not None:
                self.parent.run_section(section, state)
            return
        self.run_children(node, state, section)

    def run_children(self, node: ET.Element, state: RequestState, section: str) -> None:
        for el in node:
            handler = HANDLERS.get(el.tag)
            if handler is None:
                raise UnsupportedPolicyError("policy element is not modelled here", element=el.tag)
            handler(self, el, state, section)

    def value(self, text: str | None, state: RequestState, where: str) -> object:
        """An attribute or element text: a literal string or an evaluated expression."""
        if text is None:
            return None
        if not is_expression(text):
            return text
        expression = self._compile(text, where)
        try:
            return expression.evaluate({"context": state.ctx})
        except CSharpError as exc:
            raise PolicyError(
                where.split(" ")[0],
                "ExpressionValueEvaluationFailure",
                f"{exc} (expression: {text})",
            ) from exc
        except UnsupportedPolicyError as exc:
            raise exc.located(where, text) from None

    def text(self, el: ET.Element, attr: str, state: RequestState, default: str = "") -> str:
        raw = el.get(attr)
        return default if raw is None else rt.cs_str(self.value(raw, state, f"{el.tag} {attr}"))

    def number(self, el: ET.Element, attr: str, state: RequestState, default: float) -> float:
        raw = el.get(attr)
        if raw is None:
            return default
        value = self.value(raw, state, f"{el.tag} {attr}")
        try:
            return float(value) if isinstance(value, int | float | str) else default
        except ValueError:
            raise UnsupportedPolicyError(
                f"`{attr}` is not a number", element=el.tag, expression=raw
            ) from None

    def flag(self, el: ET.Element, attr: str, state: RequestState, default: bool) -> bool:
        raw = el.get(attr)
        if raw is None:
            return default
        value = self.value(raw, state, f"{el.tag} {attr}")
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise UnsupportedPolicyError(f"`{attr}` is not a boolean", element=el.tag, expression=raw)


# ---------------------------------------------------------------- elements


def _base(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    if doc.parent is not None:
        doc.parent.run_section(section, state)


def _choose(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    for branch in el:
        if branch.tag == "when":
            cond = branch.get("condition")
            value = doc.value(cond, state, "when condition")
            if not isinstance(value, bool):
                raise UnsupportedPolicyError(
                    "condition is not a bool", element="when", expression=cond or ""
                )
            if value:
                doc.run_children(branch, state, section)
                return
        elif branch.tag == "otherwise":
            doc.run_children(branch, state, section)
            return
        else:
            raise UnsupportedPolicyError("unexpected child of <choose>", element=branch.tag)


def _set_variable(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    name = el.get("name")
    if not name:
        raise UnsupportedPolicyError("set-variable without name", element=el.tag)
    state.ctx.variables.put(name, doc.value(el.get("value"), state, "set-variable value"))


def _set_backend_service(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    request = state.ctx.request
    if el.get("backend-id") is not None:
        backend_id = doc.text(el, "backend-id", state)
        url = state.services.backend_url(backend_id)
        if url is None:
            raise PolicyError(
                "set-backend-service", "BackendNotFound", f"backend `{backend_id}` does not exist"
            )
        request.backend_id = backend_id
        request.backend_base = url
    elif el.get("base-url") is not None:
        request.backend_base = doc.text(el, "base-url", state).rstrip("/")
        request.backend_id = None
    else:
        raise UnsupportedPolicyError(
            "set-backend-service needs backend-id or base-url", element=el.tag
        )


def _header_values(doc: PolicyDocument, el: ET.Element, state: RequestState) -> list[str]:
    values: list[str] = []
    for child in el:
        if child.tag != "value":
            raise UnsupportedPolicyError("unexpected child", element=f"{el.tag}/{child.tag}")
        values.append(rt.cs_str(doc.value(child.text or "", state, f"{el.tag} value")))
    return values


def apply_header(headers: Headers, el: ET.Element, values: list[str], name: str) -> None:
    action = el.get("exists-action", "override")
    if action == "delete":
        headers.delete(name)
    elif action == "skip":
        if not headers.has(name):
            headers.replace(name, values)
    elif action == "append":
        for value in values:
            headers.add(name, value)
    elif action == "override":
        headers.replace(name, values)
    else:
        raise UnsupportedPolicyError(f"exists-action `{action}`", element=el.tag)


def _set_header(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    name = doc.text(el, "name", state)
    target = (
        state.ctx.request.headers
        if section in ("inbound", "backend")
        else (state.ctx.response.headers)
    )
    apply_header(target, el, _header_values(doc, el, state), name)


def _set_query_parameter(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    if section not in ("inbound", "backend"):
        raise UnsupportedPolicyError("set-query-parameter outside inbound/backend", element=el.tag)
    request = state.ctx.request
    name = doc.text(el, "name", state)
    pairs = parse_qsl(request.query, keep_blank_values=True)
    action = el.get("exists-action", "override")
    values = _header_values(doc, el, state)
    present = any(k == name for k, _ in pairs)
    if action == "delete" or action == "override":
        pairs = [(k, v) for k, v in pairs if k != name]
    if action in ("override", "append") or (action == "skip" and not present):
        pairs += [(name, v) for v in values]
    request.query = urlencode(pairs)


def _rewrite_uri(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    request = state.ctx.request
    template = doc.text(el, "template", state)
    used: set[str] = set()

    def fill(name: str) -> str:
        found, value = request.matched.lookup(name)
        if not found:
            raise PolicyError("rewrite-uri", "TemplateParameterNotFound", name)
        used.add(name)
        return rt.cs_str(value)

    path, _, query = template.partition("?")
    out: list[str] = []
    rest = path
    while "{" in rest:
        before, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out += [before, fill(name)]
    out.append(rest)
    new_query = [
        (k, fill(v[1:-1]) if v.startswith("{") else v)
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    if doc.flag(el, "copy-unmatched-params", state, True):
        new_query += [
            (k, v)
            for k, v in parse_qsl(request.query, keep_blank_values=True)
            if k not in used and k not in dict(new_query)
        ]
    request.path = "".join(out)
    request.query = urlencode(new_query)


def _cache_lookup_value(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    _check_caching_type(el)
    key = doc.text(el, "key", state)
    name = el.get("variable-name")
    if not name:
        raise UnsupportedPolicyError("variable-name is required", element=el.tag)
    value = state.services.cache_get(state.ctx, key)
    if value is None:
        if el.get("default-value") is not None:
            state.ctx.variables.put(name, doc.value(el.get("default-value"), state, el.tag))
        return
    state.ctx.variables.put(name, value)


def _cache_store_value(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    _check_caching_type(el)
    key = doc.text(el, "key", state)
    value = doc.value(el.get("value"), state, "cache-store-value value")
    seconds = int(doc.number(el, "duration", state, 0))
    if seconds <= 0:
        raise PolicyError("cache-store-value", "InvalidDuration", f"duration {seconds}")
    state.services.cache_set(state.ctx, key, value, seconds)


def _cache_remove_value(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    _check_caching_type(el)
    state.services.cache_delete(state.ctx, doc.text(el, "key", state))


def _check_caching_type(el: ET.Element) -> None:
    kind = el.get("caching-type", "prefer-external")
    if kind not in ("external", "prefer-external"):
        raise UnsupportedPolicyError(
            f"caching-type `{kind}` (only the external cache is modelled)", element=el.tag
        )


def _authentication_managed_identity(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    token = state.services.managed_identity_token(doc.text(el, "resource", state))
    variable = el.get("output-token-variable-name")
    if variable:
        state.ctx.variables.put(variable, token)
    else:
        state.ctx.request.headers.replace("Authorization", [f"Bearer {token}"])


def _forward_request(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    for attr in el.attrib:
        if attr not in (
            "timeout",
            "buffer-request-body",
            "buffer-response",
            "fail-on-error-status-code",
            "follow-redirects",
            "http-version",
        ):
            raise UnsupportedPolicyError(f"attribute `{attr}`", element=el.tag)
    timeout = doc.number(el, "timeout", state, 300)
    buffered = doc.flag(el, "buffer-request-body", state, False)
    body = state.ctx.request.body
    if state.forwarded and not buffered and body.data and not body.reads:
        raise PolicyError(
            "forward-request",
            "RequestBodyNotBuffered",
            'a retried forward-request needs buffer-request-body="true"',
        )
    state.forwarded += 1
    response = state.services.forward(state.ctx, timeout=timeout, buffered=buffered)
    state.ctx.response = response
    if doc.flag(el, "fail-on-error-status-code", state, False) and response.status >= 400:
        raise PolicyError("forward-request", "BackendStatusCode", f"status {response.status}")


def _retry(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    count = int(doc.number(el, "count", state, 0))
    interval = doc.number(el, "interval", state, 0)
    first_fast = doc.flag(el, "first-fast-retry", state, False)
    for attempt in range(count + 1):
        doc.run_children(el, state, section)
        cond = doc.value(el.get("condition"), state, "retry condition")
        if not isinstance(cond, bool):
            raise UnsupportedPolicyError(
                "retry condition is not a bool", element=el.tag, expression=el.get("condition", "")
            )
        if not cond or attempt == count:
            return
        if interval > 0 and not (first_fast and attempt == 0):
            time.sleep(interval)


def _return_response(
    doc: PolicyDocument, el: ET.Element, state: RequestState, section: str
) -> None:
    name = el.get("response-variable-name")
    if name:
        found, value = state.ctx.variables.lookup(name)
        if not found or not isinstance(value, Response):
            raise PolicyError("return-response", "VariableNotFound", name)
        state.ctx.response = value
    else:
        state.ctx.response = Response(200, "OK")
    _response_children(doc, el, state)
    raise _ReturnResponse


def _response_children(doc: PolicyDocument, el: ET.Element, state: RequestState) -> None:
    headers = state.ctx.response.headers
    for child in el:
        if child.tag == "set-header":
            name = doc.text(child, "name", state)
            apply_header(headers, child, _header_values(doc, child, state), name)
        elif child.tag == "set-status":
            _set_status(doc, child, state, "outbound")
        elif child.tag == "set-body":
            state.ctx.response.body = Body(_body_value(doc, child, state))
        else:
            raise UnsupportedPolicyError("unexpected child", element=f"{el.tag}/{child.tag}")


def _set_status(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    code = int(doc.number(el, "code", state, 200))
    state.ctx.response.status = code
    state.ctx.response.reason = doc.text(el, "reason", state, "")


def _body_value(doc: PolicyDocument, el: ET.Element, state: RequestState) -> bytes:
    if el.get("template") is not None:
        raise UnsupportedPolicyError("set-body templates are not modelled", element=el.tag)
    return json_body(doc.value(el.text or "", state, "set-body"))


def _set_body(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    body = _body_value(doc, el, state)
    if section in ("inbound", "backend"):
        state.ctx.request.body = Body(body)
    else:
        state.ctx.response.body = Body(body)


def _set_method(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    state.ctx.request.method = rt.cs_str(doc.value(el.text or "", state, "set-method"))


def _send_request(doc: PolicyDocument, el: ET.Element, state: RequestState, section: str) -> None:
    mode = el.get("mode", "new")
    source = state.ctx.request
    if mode == "copy":
        request = Request(source.method, source.url, source.headers.copy(), source.body.data)
    elif mode == "new":
        request = Request("GET", "", Headers(), b"")
    else:
        raise UnsupportedPolicyError(f"mode `{mode}`", element=el.tag)
    for child in el:
        if child.tag == "set-url":
            request.url = rt.cs_str(doc.value(child.text or "", state, "set-url"))
        elif child.tag == "set-method":
            request.method = rt.cs_str(doc.value(child.text or "", state, "set-method"))
        elif child.tag == "set-header":
            name = doc.text(child, "name", state)
            apply_header(request.headers, child, _header_values(doc, child, state), name)
        elif child.tag == "set-body":
            request.body = Body(_body_value(doc, child, state))
        elif child.tag == "authentication-managed-identity":
            token = state.services.managed_identity_token(doc.text(child, "resource", state))
            request.headers.replace("Authorization", [f"Bearer {token}"])
        else:
            raise UnsupportedPolicyError("unexpected child", element=f"send-request/{child.tag}")
    if not urlsplit(request.url).scheme:
        raise PolicyError("send-request", "InvalidUrl", f"`{request.url}` is not absolute")
    timeout = doc.number(el, "timeout", state, 60)
    variable = el.get("response-variable-name")
    try:
        response: Response | None = state.services.send(request, timeout)
    except PolicyError:
        if not doc.flag(el, "ignore-error", state, False):
            raise
        response = None
    if variable:
        state.ctx.variables.put(variable, response)


_CHILD_ONLY = {"when", "otherwise", "value", "set-url"}
HANDLERS: dict[str, Handler] = {
    "base": _base,
    "choose": _choose,
    "set-variable": _set_variable,
    "set-backend-service": _set_backend_service,
    "set-header": _set_header,
    "set-query-parameter": _set_query_parameter,
    "rewrite-uri": _rewrite_uri,
    "cache-lookup-value": _cache_lookup_value,
    "cache-store-value": _cache_store_value,
    "cache-remove-value": _cache_remove_value,
    "authentication-managed-identity": _authentication_managed_identity,
    "forward-request": _forward_request,
    "retry": _retry,
    "return-response": _return_response,
    "set-status": _set_status,
    "set-body": _set_body,
    "set-method": _set_method,
    "send-request": _send_request,
}
