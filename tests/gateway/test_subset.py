"""SUBSET.md (what the policy interpreter must cover) lists every element the policies use."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from tests.gateway import csharp
from tests.gateway.conftest import POLICY_CASES, apis_for
from tests.gateway.policy_tree import expressions, parse

SUBSET = (files("batchgw.gateway") / "SUBSET.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"`([a-z][a-z-]*)`", SUBSET))
CHILD_ELEMENTS = {"value", "when", "otherwise"}


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_every_element_is_in_subset_md(size: int, index: int) -> None:
    root = parse(apis_for(size)[index].policy_xml)
    used = {e.tag for e in root.iter() if isinstance(e.tag, str)}
    assert used - DOCUMENTED - CHILD_ELEMENTS == set()


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_every_type_is_in_subset_md(size: int, index: int) -> None:
    root = parse(apis_for(size)[index].policy_xml)
    for expression in expressions(root):
        for name in csharp.type_names(csharp.parse(expression.code)):
            assert name in SUBSET, name
