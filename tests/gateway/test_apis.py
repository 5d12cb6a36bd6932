"""The three APIs and their operations, as GATEWAY.md lists them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from batchgw.gateway.apis import ApiSpec, build_apis
from tests.gateway.conftest import make_gateway

BATCH = {
    ("POST", "/files"),
    ("GET", "/files"),
    ("GET", "/files/{file_id}"),
    ("DELETE", "/files/{file_id}"),
    ("GET", "/files/{file_id}/content"),
    ("POST", "/batches"),
    ("GET", "/batches"),
    ("GET", "/batches/{batch_id}"),
    ("POST", "/batches/{batch_id}/cancel"),
}
REALTIME = {
    ("POST", "/responses"),
    ("GET", "/responses/{response_id}"),
    ("DELETE", "/responses/{response_id}"),
    ("POST", "/responses/{response_id}/cancel"),
    ("GET", "/responses/{response_id}/input_items"),
    ("POST", "/chat/completions"),
    ("POST", "/embeddings"),
}


def _apis() -> dict[str, ApiSpec]:
    return {api.api_id: api for api in build_apis(make_gateway(2))}


def test_three_apis_with_gateway_paths() -> None:
    apis = _apis()
    assert list(apis) == ["openai", "openai-sticky", "openai-realtime"]
    assert {a.path for a in apis.values()} == {"openai", "openai-sticky", "openai-realtime"}
    assert len({a.display_name for a in apis.values()}) == 3


def test_operations_are_exactly_gateway_md() -> None:
    apis = _apis()
    for api_id, expected in (
        ("openai", BATCH),
        ("openai-sticky", BATCH),
        ("openai-realtime", REALTIME),
    ):
        ops = apis[api_id].operations
        assert {(op.method, op.url_template) for op in ops} == expected
        assert len({op.operation_id for op in ops}) == len(ops)
        assert len({op.display_name for op in ops}) == len(ops)


def test_template_parameters_are_declared() -> None:
    for api in _apis().values():
        for op in api.operations:
            in_path = tuple(p.strip("{}") for p in op.url_template.split("/") if p.startswith("{"))
            assert op.template_parameters == in_path


def test_policies_dispatch_on_every_operation_id() -> None:
    for api in _apis().values():
        text = ET.tostring(ET.fromstring(api.policy_xml), encoding="unicode")
        if api.api_id == "openai":
            continue  # every operation is treated alike there, except the upload
        for op in api.operations:
            if op.operation_id in ("embeddings",):
                continue  # follows the session like chat: nothing operation-specific
            assert f"&quot;{op.operation_id}&quot;" in text, (api.api_id, op.operation_id)


def test_build_apis_is_deterministic() -> None:
    assert build_apis(make_gateway(7)) == build_apis(make_gateway(7))
