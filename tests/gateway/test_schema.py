"""Every rendered policy validates against the public APIM policy XSDs.

policies.xsd itself doesn't compile with libxml2 (see apim-policy-reference/README.md), so a
wrapper schema includes common-types.xsd and every per-policy XSD except policies.xsd and
cross-domain.xsd; the sections are checked here, each statement against the wrapper, and the
statements nested in choose/when/otherwise and retry (processContents="skip") one by one.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from lxml import etree

from tests.gateway.conftest import POLICY_CASES, apis_for
from tests.gateway.shared import policy_schema_dir

EXCLUDED = {"policies.xsd", "cross-domain.xsd"}
SECTIONS = ("inbound", "backend", "outbound", "on-error")
NESTING = {"choose", "when", "otherwise", "retry"}


@cache
def wrapper_schema() -> Any:
    folder = policy_schema_dir()
    if not folder.is_dir():
        pytest.skip(f"APIM policy schemas not found at {folder} (set BATCHGW_SHARED_DIR)")
    others = sorted(
        p for p in folder.glob("*.xsd") if p.name not in EXCLUDED | {"common-types.xsd"}
    )
    includes = [folder / "common-types.xsd", *others]
    lines = [
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">'
    ]
    lines += [f'  <xs:include schemaLocation="{p.as_uri()}"/>' for p in includes]
    lines.append("</xs:schema>")
    return etree.XMLSchema(etree.fromstring("\n".join(lines).encode()))


def _statements(parent: Any) -> list[Any]:
    return [child for child in parent if isinstance(child.tag, str)]


def check_statement(schema: Any, statement: Any, errors: list[str]) -> None:
    doc = etree.ElementTree(copy.deepcopy(statement))
    if not schema.validate(doc):
        errors.extend(f"line {statement.sourceline}: {e.message}" for e in schema.error_log)
    if statement.tag == "choose":
        for branch in _statements(statement):
            for child in _statements(branch):
                check_statement(schema, child, errors)
    elif statement.tag == "retry":
        for child in _statements(statement):
            check_statement(schema, child, errors)


def schema_errors(xml: str) -> list[str]:
    schema = wrapper_schema()
    root = etree.fromstring(xml.encode())
    errors: list[str] = []
    if root.tag != "policies":
        return [f"root is <{root.tag}>, not <policies>"]
    sections = [s.tag for s in _statements(root)]
    if [s for s in SECTIONS if s in sections] != sections:
        errors.append(f"sections out of order or repeated: {sections}")
    for section in _statements(root):
        for statement in _statements(section):
            if statement.tag == "base":
                if len(statement) or statement.attrib:
                    errors.append("<base /> must be empty")
                continue
            check_statement(schema, statement, errors)
    return errors


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_policy_validates_against_apim_schema(size: int, index: int) -> None:
    assert schema_errors(apis_for(size)[index].policy_xml) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ('<cache-lookup-value key="k" />', "variable-name"),
        ('<retry condition="@(true)" count="0" interval="0" />', "count"),
        (
            '<choose><when condition="@(true)"><cache-store-value key="k" /></when></choose>',
            "duration",
        ),
        ("<not-a-policy />", "not-a-policy"),
    ],
)
def test_the_check_catches_bad_statements(statement: str, message: str) -> None:
    errors = schema_errors(f"<policies><inbound>{statement}</inbound></policies>")
    assert errors
    assert message in " ".join(errors)
