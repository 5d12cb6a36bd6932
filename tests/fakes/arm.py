"""FakeArm: an in-memory Azure Resource Manager for batchgw's tests and benchmarks.

One ``handle()`` answers every request, whether it arrives in-process through
``responses.RequestsMock`` (``install``) or over HTTPS (``tests.fakes.server``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import responses

from tests.fakes import handlers, roles
from tests.fakes.ids import RESOURCE_GROUPS, ArmPath, is_under, parse_path
from tests.fakes.kinds import KINDS, JsonDict
from tests.fakes.lro import Lros
from tests.fakes.specs import validate_body
from tests.fakes.store import Reply, Store, error

# POSTs that only read (they return secrets but change nothing).
_READ_POSTS = ("/listkeys", "/listsecrets", "/listvalue")
_GROUP_RESOURCES = re.compile(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+)/resources$")
_OPERATION_KINDS = ("/locations/operationstatuses", "/locations/operationresults")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str  # as sent, without the query
    query: dict[str, str]
    body: object | None
    status: int


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: str
    message: str
    remaining: int
    retry_after: float | None


class FakeArm:
    def __init__(
        self,
        *,
        subscription_id: str = "00000000-0000-0000-0000-000000000000",
        lro_polls: int = 1,
        lro_seconds: float = 0.0,
        retry_after: float = 0.01,
        latency: float = 0.0,
        page_size: int = 2,
        principal_not_found_calls: int = 2,
        validate: bool = True,
    ) -> None:
        self.subscription_id = subscription_id
        self.lro_seconds = lro_seconds
        self.retry_after = retry_after
        self.latency = latency
        self.page_size = page_size
        self.principal_not_found_calls = principal_not_found_calls
        self.validate = validate
        self.calls: list[Call] = []
        self.store = Store()
        self.lros = Lros(lro_polls, retry_after)
        self._lock = threading.RLock()
        self._lro_seconds_by_type: dict[str, float] = {}
        self._faults: list[_Fault] = []
        self._lro_faults: list[tuple[re.Pattern[str], str, str]] = []
        self._throttle_every = 0
        self._request_count = 0
        self._apim_states: dict[str, list[object]] = {}  # lower id -> [state, calls left]

    @property
    def spec_violations(self) -> list[str]:
        return self.store.violations

    # ----- requests -------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        if self.latency > 0:
            time.sleep(self.latency)
        split = urlsplit(url)
        base = f"{split.scheme}://{split.netloc}"
        path = "/" + unquote(split.path).strip("/")
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        method = method.upper()
        with self._lock:
            parsed: object | None = None
            reply: Reply | None = None
            if body:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    self.store.violations.append(f"{method} {path}: body is not JSON")
                    reply = error(400, "InvalidRequestContent", "The request body is not JSON.")
            if reply is None:
                reply = self._answer(method, path, query, parsed, base)
            self.calls.append(Call(method, path, query, parsed, reply.status))
        out_headers = {"Content-Type": "application/json", **dict(reply.headers)}
        if "Location" in out_headers and out_headers["Location"].startswith("/"):
            out_headers["Location"] = base + out_headers["Location"]
        payload = b"" if reply.body is None or method == "HEAD" else json.dumps(reply.body).encode()
        return reply.status, out_headers, payload

    def install(
        self, rsps: responses.RequestsMock, base_url: str = "https://management.azure.com"
    ) -> None:
        pattern = re.compile(re.escape(base_url.rstrip("/")) + r"/.*")

        def callback(request: object) -> tuple[int, dict[str, str], bytes]:
            raw = getattr(request, "body", None)
            data = raw.encode() if isinstance(raw, str) else raw
            return self.handle(
                str(getattr(request, "method", "GET")),
                str(getattr(request, "url", "")),
                dict(getattr(request, "headers", {})),
                data if isinstance(data, bytes) else None,
            )

        for method in ("GET", "PUT", "PATCH", "DELETE", "POST", "HEAD"):
            rsps.add_callback(method, pattern, callback=callback, content_type="application/json")

    def writes(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if _is_write(c)]

    # ----- state helpers for tests ----------------------------------------------------------

    def seed_foundry(
        self,
        name: str,
        resource_group: str,
        location: str,
        *,
        subscription_id: str | None = None,
        kind: str = "AIServices",
    ) -> str:
        sub = subscription_id or self.subscription_id
        rg_id = f"/subscriptions/{sub}/resourceGroups/{resource_group}"
        if self.get_resource(rg_id) is None:
            self.seed(
                rg_id, {"location": location, "properties": {"provisioningState": "Succeeded"}}
            )
        account_id = f"{rg_id}/providers/Microsoft.CognitiveServices/accounts/{name}"
        self.seed(
            account_id,
            {
                "kind": kind,
                "location": location,
                "sku": {"name": "S0"},
                "tags": {},
                "etag": f'"{uuid.uuid4()}"',
                "properties": {
                    "provisioningState": "Succeeded",
                    "customSubDomainName": name,
                    "endpoint": f"https://{name}.cognitiveservices.azure.com/",
                    "endpoints": {
                        "OpenAI Language Model Instance API": f"https://{name}.openai.azure.com/",
                        "AI Foundry API": f"https://{name}.services.ai.azure.com/",
                    },
                    "publicNetworkAccess": "Enabled",
                },
            },
        )
        return account_id

    def seed(self, arm_id: str, resource: dict[str, object]) -> None:
        arm = parse_path(arm_id)
        kind = KINDS.get(arm.type_key)
        full: JsonDict = {
            "id": arm.path,
            "name": arm.name,
            "type": kind.type if kind else arm.type_key,
            **resource,
        }
        with self._lock:
            self.store.put(arm.lower, full)

    def get_resource(self, arm_id: str) -> dict[str, object] | None:
        with self._lock:
            return self.store.get(parse_path(arm_id).lower)

    def get_secret(self, arm_id: str) -> str | None:
        """What GET never shows (e.g. the connection string sent for an APIM cache)."""
        with self._lock:
            return self.store.secrets.get(parse_path(arm_id).lower)

    def mutate(self, arm_id: str, fn: Callable[[dict[str, object]], None]) -> None:
        with self._lock:
            resource = self.store.resources[parse_path(arm_id).lower]
            fn(resource)

    def edit_policy(self, arm_id: str, xml: str) -> None:
        """A policy edited outside batchgw (the portal's editor)."""
        from tests.fakes.policy_xml import parse_policy

        with self._lock:
            self.store.policies[parse_path(arm_id).lower] = parse_policy(xml, "xml")

    def remove(self, arm_id: str) -> None:
        with self._lock:
            self.store.delete_tree(parse_path(arm_id).lower)

    def resource_ids(self) -> list[str]:
        with self._lock:
            return list(self.store.resources)

    def register_principal(self, principal_id: str) -> None:
        """Treat principal_id as just created (PrincipalNotFound for the next assignments)."""
        with self._lock:
            self.store.fresh_principals[principal_id.lower()] = 0

    # ----- fault hooks ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        code: str,
        message: str = "",
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        with self._lock:
            self._faults.append(
                _Fault(
                    method.upper(),
                    re.compile(path_regex, re.IGNORECASE),
                    status,
                    code,
                    message or f"Injected {code}",
                    times,
                    retry_after,
                )
            )

    def throttle_every(self, n: int) -> None:
        with self._lock:
            self._throttle_every = n

    def fail_lro_next(self, path_regex: str, *, code: str, message: str) -> None:
        with self._lock:
            self._lro_faults.append((re.compile(path_regex, re.IGNORECASE), code, message))

    def set_apim_state(self, apim_id: str, state: str, *, calls: int) -> None:
        with self._lock:
            self._apim_states[parse_path(apim_id).lower] = [state, calls]

    def set_lro_seconds(self, type_lower: str, seconds: float) -> None:
        with self._lock:
            self._lro_seconds_by_type[type_lower.lower()] = seconds

    # ----- internals used by handlers -------------------------------------------------------

    def lro_seconds_for(self, type_key: str) -> float:
        return self._lro_seconds_by_type.get(type_key, self.lro_seconds)

    def take_lro_failure(self, path: str) -> tuple[str, str] | None:
        for index, (pattern, code, message) in enumerate(self._lro_faults):
            if pattern.search(path):
                del self._lro_faults[index]
                return code, message
        return None

    def apim_busy_state(self, lower_path: str) -> str | None:
        """The injected provisioningState of the APIM service that lower_path belongs to."""
        for apim_id, (state, _left) in self._apim_states.items():
            if is_under(lower_path, apim_id):
                return str(state)
        return None

    # ----- dispatch -------------------------------------------------------------------------

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: object | None, base: str
    ) -> Reply:
        self.lros.sweep()
        self._request_count += 1
        try:
            return self._answer_inner(method, path, query, body, base)
        finally:
            self._tick_apim_states(path.lower())

    def _answer_inner(
        self, method: str, path: str, query: dict[str, str], body: object | None, base: str
    ) -> Reply:
        if self._throttle_every and self._request_count % self._throttle_every == 0:
            return error(
                429,
                "TooManyRequests",
                "The request is being throttled.",
                ("Retry-After", f"{max(self.retry_after, 0.001):g}"),
            )
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault
        arm = parse_path(path)
        if arm.type_key.endswith(_OPERATION_KINDS) and method == "GET":
            polled = self.lros.poll(arm.name, base + path)
            if polled is not None:
                return polled
        if method == "POST" and arm.lower.endswith("/listkeys"):
            return handlers.list_keys(self, arm)
        group_listing = _GROUP_RESOURCES.match(path.lower())
        if group_listing is not None and method == "GET":
            return self._group_resources(group_listing.group(1), query, base + path)
        kind = KINDS.get(arm.type_key)
        if kind is None:
            return self._unknown(method, path, 404, "NoRegisteredProviderFound")
        if method in ("PUT", "PATCH", "DELETE") and kind.put == "read-only":
            if arm.type_key.startswith("microsoft.cognitiveservices/"):
                self.store.violations.append(
                    f"{method} {path}: foundry accounts must never be written"
                )
                return error(405, "MethodNotAllowed", "foundry accounts must never be written")
            if not (method == "DELETE" and kind.delete != "read-only"):
                return self._unknown(method, path, 405, "MethodNotAllowed")
        if method in ("PUT", "PATCH") and self.validate:
            refused = self._validate(method, arm, body)
            if refused is not None:
                return refused
        return self._route(method, arm, query, body, base)

    def _route(
        self, method: str, arm: ArmPath, query: dict[str, str], body: object | None, base: str
    ) -> Reply:
        if method in ("GET", "HEAD"):
            return self._read(method, arm, query, base)
        if method == "PUT" and isinstance(body, dict):
            return handlers.put(self, arm, body, query, base)
        if method == "PATCH" and isinstance(body, dict):
            return handlers.patch(self, arm, body, query, base)
        if method == "DELETE":
            return handlers.delete(self, arm, base)
        return self._unknown(method, arm.path, 405, "MethodNotAllowed")

    def _read(self, method: str, arm: ArmPath, query: dict[str, str], base: str) -> Reply:
        if arm.is_collection:
            if arm.type_key == "microsoft.authorization/roleassignments":
                items = roles.list_assignments(self.store, arm, query)
            elif arm.type_key == "microsoft.authorization/roledefinitions":
                items = roles.list_definitions(arm, query)
            else:
                missing = handlers.missing_parent(self, arm)
                if missing is not None:
                    return missing
                items = [handlers.render(self, r, query) for r in self.store.children(arm.lower)]
            return _page(items, query, base + arm.path, self.page_size)
        if arm.type_key == "microsoft.authorization/roledefinitions":
            return roles.get_definition(arm)
        resource = self.store.get(arm.lower)
        if resource is None:
            if arm.type_key == RESOURCE_GROUPS:
                return error(
                    404,
                    "ResourceGroupNotFound",
                    f"Resource group '{arm.name}' could not be found.",
                )
            return handlers.not_found(arm)
        if method == "HEAD":
            return Reply(204)
        return Reply(200, handlers.render(self, resource, query))

    def _group_resources(self, group_id: str, query: dict[str, str], url: str) -> Reply:
        """Resources_ListByResourceGroup: the top-level resources in a group."""
        if self.store.get(group_id) is None:
            return error(404, "ResourceGroupNotFound", "Resource group could not be found.")
        top = re.compile(re.escape(group_id) + r"/providers/[^/]+/[^/]+/[^/]+$")
        items = [
            {k: v for k, v in r.items() if k in ("id", "name", "type", "location", "tags")}
            for key, r in sorted(self.store.resources.items())
            if top.match(key)
        ]
        return _page(items, query, url, self.page_size)

    def _validate(self, method: str, arm: ArmPath, body: object | None) -> Reply | None:
        problems = validate_body(method, arm.path, body)
        if problems is None:
            problems = [f"no swagger operation matches {method} {arm.path}"]
        if not problems:
            return None
        self.store.violations.extend(f"{method} {arm.path}: {p}" for p in problems)
        return error(400, "InvalidRequestContent", "; ".join(problems))

    def _unknown(self, method: str, path: str, status: int, code: str) -> Reply:
        self.store.violations.append(f"{method} {path}: not emulated by FakeArm")
        return error(status, code, f"FakeArm does not emulate {method} {path}")

    def _take_fault(self, method: str, path: str) -> Reply | None:
        for fault in self._faults:
            if fault.method == method and fault.pattern.search(path) and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                headers: tuple[tuple[str, str], ...] = ()
                if fault.retry_after is not None:
                    headers = (("Retry-After", f"{fault.retry_after:g}"),)
                return error(fault.status, fault.code, fault.message, *headers)
        return None

    def _tick_apim_states(self, lower_path: str) -> None:
        for apim_id in list(self._apim_states):
            if is_under(lower_path, apim_id):
                entry = self._apim_states[apim_id]
                left = int(str(entry[1])) - 1
                if left <= 0:
                    del self._apim_states[apim_id]
                else:
                    entry[1] = left


def _is_write(call: Call) -> bool:
    if call.method in ("PUT", "PATCH", "DELETE"):
        return True
    return call.method == "POST" and not call.path.lower().endswith(_READ_POSTS)


def _page(items: list[JsonDict], query: dict[str, str], url: str, size: int) -> Reply:
    start = int(query.get("$skipToken", "0") or 0)
    page: JsonDict = {"value": items[start : start + size]}
    if start + size < len(items):
        rest = {k: v for k, v in query.items() if k != "$skipToken"}
        rest["$skipToken"] = str(start + size)
        page["nextLink"] = url + "?" + urlencode(rest)
    return Reply(200, page)
