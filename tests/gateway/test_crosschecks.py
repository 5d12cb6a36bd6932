"""Cross-checks between the policies and the GatewaySpec, and the rules of GATEWAY.md that
can be seen in the policy text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.gateway.conftest import POLICY_CASES, apis_for, make_gateway
from tests.gateway.flow import VariableFlow, key_shapes, variables_read
from tests.gateway.policy_tree import expressions, parse

KINDS = {"file", "batch", "response", "session"}


def _root(size: int, index: int) -> ET.Element:
    return parse(apis_for(size)[index].policy_xml)


def _parents(root: ET.Element) -> dict[ET.Element, ET.Element]:
    return {child: parent for parent in root.iter() for child in parent}


def _ancestors(elem: ET.Element, parents: dict[ET.Element, ET.Element]) -> list[ET.Element]:
    found = []
    while elem in parents:
        elem = parents[elem]
        found.append(elem)
    return found


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_backend_ids_are_the_gateways(size: int, index: int) -> None:
    gateway = make_gateway(size)
    root = _root(size, index)
    named = [e.attrib for e in root.iter("set-backend-service")]
    assert all(set(attrs) == {"backend-id"} for attrs in named)
    used = {attrs["backend-id"] for attrs in named}
    assert used <= {r.backend_id for r in gateway.regions} | {gateway.pool_backend_id}
    # every region can be reached
    assert {r.backend_id for r in gateway.regions} <= used


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_variables_are_set_before_they_are_read(size: int, index: int) -> None:
    root = _root(size, index)
    assert VariableFlow().check(root) == []
    set_somewhere = {e.attrib["name"] for e in root.iter("set-variable")}
    set_somewhere |= {e.attrib["variable-name"] for e in root.iter("cache-lookup-value")}
    set_somewhere |= {e.attrib["response-variable-name"] for e in root.iter("send-request")}
    assert variables_read(root) <= set_somewhere


def test_flow_check_sees_a_read_before_set() -> None:
    root = parse(
        "<policies><inbound><choose><when condition='@(true)'>"
        "<set-variable name='a' value='@(1)' /></when></choose>"
        "<set-variable name='b' value='@((int)context.Variables[\"a\"])' />"
        "</inbound></policies>"
    )
    assert VariableFlow().check(root) == ["set-variable: `a` may be read before it is set"]


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_cache_keys_read_are_keys_written(size: int, index: int) -> None:
    root = _root(size, index)
    ttl = str(make_gateway(size).affinity_ttl_seconds)
    reads: set[str] = set()
    writes: set[str] = set()
    for elem in root.iter():
        if elem.tag in ("cache-lookup-value", "cache-store-value", "cache-remove-value"):
            assert elem.attrib["caching-type"] == "external"
            shapes = key_shapes(root, elem.attrib["key"])
            (writes if elem.tag == "cache-store-value" else reads).update(shapes)
        if elem.tag == "cache-store-value":
            assert elem.attrib["duration"] == ttl
            # the value is always a region name
            assert elem.attrib["value"] in (
                '@((string)context.Variables["region"])',
                '@((string)context.Variables["owner"])',
            )
    assert reads <= writes
    assert writes <= KINDS


def test_standard_api_keeps_no_records() -> None:
    root = _root(2, 0)
    assert not [e for e in root.iter() if e.tag.startswith("cache-")]


SECRET_PATTERNS = [
    r"context\.Subscription",
    r"IpAddress",
    r"PrimaryKey|SecondaryKey",
    r"GetValueOrDefault\(\"(Authorization|api-key|Ocp-Apim-Subscription-Key)\"",
    r"Bearer ",
    r"AccountKey|password|sig=",
    r"\{\{",  # named values
    r"[A-Za-z0-9+/]{40,}={0,2}",  # anything that looks like a key or token
]


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_no_secret_in_policy_text(size: int, index: int) -> None:
    text = apis_for(size)[index].policy_xml
    for pattern in SECRET_PATTERNS:
        assert not re.search(pattern, text), pattern
    for expression in expressions(parse(text)):
        lowered = expression.code.lower()
        assert "authorization" not in lowered
        assert "api-key" not in lowered


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_client_credentials_are_stripped_and_identity_used(size: int, index: int) -> None:
    root = _root(size, index)
    inbound = [e for e in root.find("inbound") or [] if isinstance(e.tag, str)]
    tags = [(e.tag, e.attrib.get("name"), e.attrib.get("exists-action")) for e in inbound]
    auth = tags.index(("authentication-managed-identity", None, None))
    for header in ("api-key", "Authorization", "Ocp-Apim-Subscription-Key"):
        assert tags.index(("set-header", header, "delete")) < auth
    resources = {e.attrib["resource"] for e in root.iter("authentication-managed-identity")}
    assert resources == {"https://cognitiveservices.azure.com"}
    for request in root.iter("send-request"):
        assert request.find("authentication-managed-identity") is not None


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_request_bodies_are_read_only_for_small_json(size: int, index: int) -> None:
    root = _root(size, index)
    parents = _parents(root)
    for expression in expressions(root):
        if "context.Request.Body" not in expression.code:
            continue
        assert "preserveContent: true" in expression.code
        guards = [
            a.attrib.get("condition", "")
            for a in _ancestors(expression.element, parents)
            if a.tag == "when"
        ]
        assert any(
            g in ('@(context.Operation.Id == "batches-create")',
                  '@(context.Operation.Id == "responses-create")')
            for g in guards
        ), guards  # fmt: skip


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_uploads_are_streamed_and_never_retried(size: int, index: int) -> None:
    root = _root(size, index)
    backend = root.find("backend")
    assert backend is not None
    upload = backend.find("choose/when")
    assert upload is not None
    assert upload.attrib["condition"] == '@((bool)context.Variables["upload"])'
    assert upload.find("retry") is None
    forwards = upload.findall("forward-request")
    assert [f.attrib for f in forwards] == [{"buffer-request-body": "false"}]
    setter = next(e for e in root.iter("set-variable") if e.attrib["name"] == "upload")
    assert setter.attrib["value"] == '@(context.Operation.Id == "files-create")'


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_random_choice_only_where_nothing_else_decided(size: int, index: int) -> None:
    """A lookup miss never falls back to a random region: the weighted pick happens only when
    `region` is still empty after every rule, or on a retry of such a free choice."""
    root = _root(size, index)
    parents = _parents(root)
    picks = [
        e for e in root.iter("set-variable")
        if "new Random()" in e.attrib["value"]
    ]  # fmt: skip
    assert picks
    for pick in picks:
        assert pick.attrib["name"] == "region"
        around = _ancestors(pick, parents)
        free_retry = any(
            a.tag == "retry"
            and a.attrib["condition"].startswith('@((bool)context.Variables["free"]')
            for a in around
        )
        unset = any(
            a.tag == "when"
            and a.attrib["condition"] == '@((string)context.Variables["region"] == "")'
            for a in around
        )
        assert free_retry or unset


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_every_answer_names_its_region(size: int, index: int) -> None:
    root = _root(size, index)
    for answer in root.iter("return-response"):
        names = [h.attrib["name"] for h in answer.iter("set-header")]
        assert "x-backend-region" in names
    for section in ("outbound", "on-error"):
        found = root.find(section)
        assert found is not None
        assert any(h.attrib["name"] == "x-backend-region" for h in found.findall("set-header"))


def test_realtime_sessions_come_from_the_client_header_only() -> None:
    root = _root(2, 2)
    session = next(e for e in root.iter("set-variable") if e.attrib["name"] == "sessionId")
    assert 'GetValueOrDefault("x-session-id", "")' in session.attrib["value"]
    stores = [
        e.attrib["key"] for e in root.iter("cache-store-value") if "session:" in e.attrib["key"]
    ]
    assert stores == ['@("session:" + (string)context.Variables["sessionId"])']
