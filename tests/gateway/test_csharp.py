"""Every policy expression parses as C# and names only .NET types APIM allows."""

from __future__ import annotations

import pytest

from tests.gateway import csharp
from tests.gateway.conftest import POLICY_CASES, apis_for
from tests.gateway.policy_tree import expressions, parse


def _all_expressions(size: int, index: int) -> list[str]:
    return [e.code for e in expressions(parse(apis_for(size)[index].policy_xml))]


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_every_expression_parses_as_csharp(size: int, index: int) -> None:
    failures = {
        code: found
        for code in _all_expressions(size, index)
        if (found := csharp.problems(csharp.parse(code)))
    }
    assert failures == {}


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_expressions_use_only_allowed_types(size: int, index: int) -> None:
    used: set[str] = set()
    for code in _all_expressions(size, index):
        used |= csharp.type_names(csharp.parse(code))
    allowed = set(csharp.ALLOWED_TYPES) | csharp.CONTEXT_TYPES
    assert used - allowed == set()


def test_allow_list_is_a_subset_of_the_documented_types() -> None:
    assert set(csharp.ALLOWED_TYPES.values()) <= csharp.DOCUMENTED


@pytest.mark.parametrize(
    ("code", "bad"),
    [
        ("@(new WebClient().DownloadString(x))", "WebClient"),
        ("@(File.ReadAllText(x))", "File"),
        ("@((Process)x)", "Process"),
        ("@(context.Variables.GetValueOrDefault<HttpClient>(x))", "HttpClient"),
    ],
)
def test_type_scan_sees_disallowed_types(code: str, bad: str) -> None:
    assert bad in csharp.type_names(csharp.parse(code))


def test_parse_reports_broken_code() -> None:
    assert csharp.problems(csharp.parse('@(context.Variables["x" == )'))
