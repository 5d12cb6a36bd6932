"""canonical_policy: APIM's reformattings are not changes; real edits are."""

from __future__ import annotations

import pytest

from batchgw.gateway.canonical import canonical_policy, policy_diff
from tests.gateway.conftest import apis_for

BASE = """<policies>
    <inbound>
        <base />
        <set-variable name="region"
            value="@((string)context.Variables[&quot;p&quot;] == &quot;&quot;
                ? &quot;a&quot; : &quot;b&quot;)" />
        <cache-lookup-value key="@(&quot;file:&quot; + (string)context.Variables[&quot;id&quot;])"
            variable-name="cached" default-value="" caching-type="external" />
        <set-body>@{
            var x = 1;
            return (x &lt; 2).ToString();
        }</set-body>
    </inbound>
    <outbound>
        <set-header name="x-backend-region" exists-action="override">
            <value>@((string)context.Variables["region"])</value>
        </set-header>
    </outbound>
</policies>
"""

SAME = {
    "tabs and CRLF": BASE.replace("    ", "\t").replace("\n", "\r\n"),
    "rawxml (expressions unescaped)": BASE.replace("&quot;", '"').replace("&lt;", "<"),
    "quotes in text escaped too": BASE.replace(
        'Variables["region"]', "Variables[&quot;region&quot;]"
    ),
    "attribute order": BASE.replace(
        'variable-name="cached" default-value="" caching-type="external"',
        'caching-type="external" default-value="" variable-name="cached"',
    ),
    "self-closing vs empty element": BASE.replace("<base />", "<base></base>"),
    "layout whitespace": BASE.replace("<inbound>\n", "<inbound>\n\n  \n"),
    "whitespace inside expressions": BASE.replace("var x = 1;", "var   x=1 ;").replace(
        "return (x", "return(x"
    ),
    "newlines in an attribute expression": BASE.replace(" + (string)", "\n    + (string)"),
    "comments": BASE.replace("<base />", "<base /><!-- hello -->"),
    "BOM and XML declaration": "\ufeff<?xml version='1.0' encoding='utf-8'?>\n" + BASE,
    "single-quoted attributes": BASE.replace('name="x-backend-region"', "name='x-backend-region'"),
    "character reference": BASE.replace(
        'exists-action="override"', 'exists-action="&#111;verride"'
    ),
}

CHANGED = {
    "attribute value": BASE.replace('caching-type="external"', 'caching-type="internal"'),
    "string literal in expression": BASE.replace("&quot;file:&quot;", "&quot;files:&quot;"),
    "whitespace inside a string literal": BASE.replace("&quot;a&quot;", "&quot;a &quot;"),
    "operator": BASE.replace("x &lt; 2", "x &lt;= 2"),
    "element added": BASE.replace(
        "<base />", "<base /><set-header name='a' exists-action='delete' />"
    ),
    "element order": BASE.replace("<base />\n", "").replace("</inbound>", "<base /></inbound>"),
    "attribute removed": BASE.replace(' default-value=""', ""),
    "literal text": BASE.replace("<outbound>", "<outbound><set-body>a b</set-body>").replace(
        "</outbound>", "</outbound>"
    ),
    "identifier": BASE.replace(
        "var x = 1;\n            return (x", "var y = 1;\n            return (y"
    ),
}


@pytest.mark.parametrize("variant", SAME.values(), ids=SAME.keys())
def test_reformatting_is_not_a_change(variant: str) -> None:
    assert canonical_policy(variant) == canonical_policy(BASE)
    assert policy_diff(BASE, variant) == ""


@pytest.mark.parametrize("variant", CHANGED.values(), ids=CHANGED.keys())
def test_real_edit_is_a_change(variant: str) -> None:
    assert canonical_policy(variant) != canonical_policy(BASE)
    assert policy_diff(BASE, variant).startswith("--- deployed\n+++ desired\n")


def _apim_roundtrip(xml: str, *, raw: bool) -> str:
    """What APIM's GET returns, modelled on the lead's fake (tests/fakes/policy_xml.py)."""
    from tests.fakes.policy_xml import parse_policy, render_policy

    return render_policy(parse_policy(xml, "xml"), "rawxml" if raw else "xml")


@pytest.mark.parametrize("raw", [False, True], ids=["xml", "rawxml"])
@pytest.mark.parametrize("index", [0, 1, 2], ids=["openai", "openai-sticky", "openai-realtime"])
def test_rendered_policies_survive_an_apim_roundtrip(index: int, raw: bool) -> None:
    sent = apis_for(2)[index].policy_xml
    returned = _apim_roundtrip(sent, raw=raw)
    assert returned != sent
    assert canonical_policy(returned) == canonical_policy(sent)


def test_region_change_shows_as_readable_diff() -> None:
    before = apis_for(1)[0].policy_xml
    after = apis_for(2)[0].policy_xml
    diff = policy_diff(before, after)
    assert (
        '+          <when condition="@((string) context.Variables["region"] == "westus3")">' in diff
    )
    assert "&quot;" not in diff
