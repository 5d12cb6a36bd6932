"""Rendering: placeholders, expression escaping, spec checks, any number of regions."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest

from batchgw.gateway.expressions import (
    ExpressionSyntaxError,
    escape_expressions,
    find_expressions,
    normalize_expression,
)
from batchgw.gateway.render import fill, load_template, render_policy
from batchgw.gateway.spec import GatewaySpec, check_gateway
from tests.gateway.conftest import LOCATIONS, SIZES, make_gateway

API_IDS = ("openai", "openai-sticky", "openai-realtime")


def test_fill_indents_blocks_and_inlines() -> None:
    template = '<a>\n    ${block}\n    <b v="${inline}" />\n</a>\n'
    out = fill(template, {"block": "<x />\n<y />", "inline": "1\n2"})
    assert out == '<a>\n    <x />\n    <y />\n    <b v="1\n    2" />\n</a>\n'


def test_fill_drops_empty_blocks_and_never_rescans_values() -> None:
    out = fill("a\n    ${empty}\n${v}\n", {"empty": "", "v": "${not_a_placeholder}"})
    assert out == "a\n${not_a_placeholder}\n"


def test_fill_needs_every_placeholder() -> None:
    with pytest.raises(KeyError):
        fill("${missing}", {})


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ('<a c="@(x == "y" && z < 1)" />', '<a c="@(x == &quot;y&quot; &amp;&amp; z &lt; 1)" />'),
        ('<v>@(a["k"] > 2)</v>', '<v>@(a["k"] &gt; 2)</v>'),
        ('<v>@{ return ")}"; }</v>', '<v>@{ return ")}"; }</v>'),
        ("<v>@(s.Split(')'))</v>", "<v>@(s.Split(')'))</v>"),
        ('<a c="mail@(x)" />', '<a c="mail@(x)" />'),
        ('<a c="@(f(/* ) */ 1))" />', '<a c="@(f(/* ) */ 1))" />'),
    ],
)
def test_escape_expressions(raw: str, escaped: str) -> None:
    assert escape_expressions(raw) == escaped
    ET.fromstring(escaped)


@pytest.mark.parametrize("broken", ['<a c="@(x" />', '<v>@{ return "x; }</v>', '<a c="@(x])" />'])
def test_unbalanced_expressions_are_refused(broken: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        list(find_expressions(broken))


def test_normalize_expression_is_layout_free() -> None:
    assert normalize_expression("@( a+b )") == normalize_expression("@(a + b)") == "@(a + b)"
    assert normalize_expression("@(f( x ))") == "@(f(x))"
    assert normalize_expression('@("a  b")') == '@("a  b")'


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("api_id", API_IDS)
def test_renders_for_any_number_of_regions(size: int, api_id: str) -> None:
    gateway = make_gateway(size)
    xml = render_policy(gateway, api_id)
    for region in gateway.regions:
        assert f'"{region.name}"' in xml.replace("&quot;", '"')
    for name in LOCATIONS[size:]:
        assert name not in xml


def test_templates_hard_code_no_region() -> None:
    names = (
        "openai.xml",
        "openai-sticky.xml",
        "openai-realtime.xml",
        "fragments/owner-lookup.xml",
        "fragments/merge-list.xml",
        "fragments/pick-region.cs",
        "fragments/backend.xml",
    )
    for name in names:
        text = load_template(name)
        assert "openai.azure.com" not in text
        assert not any(location in text for location in LOCATIONS)


def test_ttl_and_weights_come_from_the_spec() -> None:
    gateway = make_gateway(2, ttl=3600)
    xml = render_policy(gateway, "openai-sticky")
    assert 'duration="3600"' in xml
    assert "2592000" not in xml
    assert "new[] { 1, 2 }" in xml


def test_no_line_comment_inside_expressions() -> None:
    # An attribute's newlines become spaces when XML is parsed: `//` would eat the rest.
    for api_id in API_IDS:
        raw = render_policy(make_gateway(2), api_id).replace("&quot;", '"')
        for start, end, _ in find_expressions(raw):
            assert "//" not in re.sub(r'"[^"]*"', '""', raw[start:end])


def _with(gateway: GatewaySpec, **changes: object) -> GatewaySpec:
    region = dataclasses.replace(gateway.regions[0], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(gateway, regions=(region, *gateway.regions[1:]))


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "East US"},
        {"name": "westus3"},
        {"backend_id": 'x"y'},
        {"url": ""},
        {"url": "http://acct.openai.azure.com/openai/v1"},
        {"url": 'https://a.b/openai/v1"+x'},
        {"weight": -1},
        {"priority": 0},
    ],
)
def test_spec_that_cannot_render_safely_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        check_gateway(_with(make_gateway(2), **changes))


def test_spec_needs_a_region_and_a_ttl() -> None:
    with pytest.raises(ValueError, match="at least one region"):
        check_gateway(GatewaySpec((), "pool", 60))
    with pytest.raises(ValueError, match="affinity_ttl_seconds"):
        check_gateway(dataclasses.replace(make_gateway(1), affinity_ttl_seconds=0))
    with pytest.raises(ValueError, match="backend ids repeat"):
        check_gateway(dataclasses.replace(make_gateway(1), pool_backend_id="foundry-acct0"))
    with pytest.raises(ValueError, match="unexpected characters"):
        check_gateway(dataclasses.replace(make_gateway(1), pool_backend_id="a b"))


def test_session_miss_path_only_in_realtime() -> None:
    """Only a session gives the owner lookup a second record to read, repair and stay with."""
    miss_key = '@((string)context.Variables["missRegionKey"])'
    stay = '@((string)context.Variables["missRegion"])'
    for api_id, expected in (("openai-sticky", []), ("openai-realtime", ["lookup", "store"])):
        root = ET.fromstring(render_policy(make_gateway(2), api_id))
        keys = [e.tag.split("-")[1] for e in root.iter() if e.attrib.get("key") == miss_key]
        assert keys == expected, api_id
        stays = [e for e in root.iter("set-variable") if e.attrib["value"] == stay]
        assert len(stays) == len(expected) // 2, api_id
        assert ("missRegionKey" in ET.tostring(root, encoding="unicode")) == bool(expected)
