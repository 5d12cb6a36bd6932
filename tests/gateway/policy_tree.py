"""Walk a rendered policy: its statements, their sections and the expressions they hold."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from batchgw.gateway.expressions import is_expression

SECTIONS = ("inbound", "backend", "outbound", "on-error")
_VAR_INDEX = re.compile(r'context\.Variables\["([A-Za-z]+)"\]')
_VAR_SAFE = re.compile(
    r'context\.Variables\.(?:GetValueOrDefault<[^>]+>|ContainsKey)\("([A-Za-z]+)"'
)


@dataclass(frozen=True)
class Expression:
    element: ET.Element
    where: str  # attribute name, or "#text"
    code: str


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)


def expressions(root: ET.Element) -> Iterator[Expression]:
    for elem in root.iter():
        if not isinstance(elem.tag, str):
            continue
        for name, value in elem.attrib.items():
            if is_expression(value):
                yield Expression(elem, name, value.strip())
        if elem.text and is_expression(elem.text):
            yield Expression(elem, "#text", elem.text.strip())


def own_expressions(elem: ET.Element) -> list[str]:
    """Expressions in this element's attributes and text (not its children's)."""
    found = [v.strip() for v in elem.attrib.values() if is_expression(v)]
    if elem.text and is_expression(elem.text):
        found.append(elem.text.strip())
    return found


def strict_reads(code: str) -> set[str]:
    """Variables read with the indexer (which throws when unset)."""
    return set(_VAR_INDEX.findall(code))


def safe_reads(code: str) -> set[str]:
    return set(_VAR_SAFE.findall(code))
