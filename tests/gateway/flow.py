"""Static checks over a policy tree: variables set before read, cache key shapes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.gateway.policy_tree import own_expressions, safe_reads, strict_reads

NESTING = ("choose", "retry")


def _children(elem: ET.Element) -> list[ET.Element]:
    return [c for c in elem if isinstance(c.tag, str)]


def _all_codes(elem: ET.Element) -> list[str]:
    codes: list[str] = []
    for node in elem.iter():
        if isinstance(node.tag, str):
            codes.extend(own_expressions(node))
    return codes


class VariableFlow:
    """Walks the sections in pipeline order; on each path a variable read with
    `context.Variables["x"]` must have been set before (choose = intersection of branches,
    retry = its body runs at least once, return-response ends the path)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def _need(self, codes: list[str], known: set[str], where: str) -> None:
        for code in codes:
            for name in sorted(strict_reads(code) - known):
                self.errors.append(f"{where}: `{name}` may be read before it is set")

    def run(self, statements: list[ET.Element], known: set[str]) -> set[str] | None:
        current: set[str] | None = set(known)
        for statement in statements:
            assert current is not None
            current = self.statement(statement, current)
            if current is None:
                return None
        return current

    def statement(self, elem: ET.Element, known: set[str]) -> set[str] | None:
        tag = elem.tag
        if tag == "choose":
            outs: list[set[str]] = []
            branches = _children(elem)
            for branch in branches:
                self._need(own_expressions(branch), known, "when")
                out = self.run(_children(branch), known)
                if out is not None:
                    outs.append(out)
            if not any(b.tag == "otherwise" for b in branches):
                outs.append(set(known))
            return set.intersection(*outs) if outs else None
        if tag == "retry":
            out = self.run(_children(elem), known)
            if out is not None:
                self._need(own_expressions(elem), out, "retry condition")
            return out
        self._need(_all_codes(elem), known, tag)
        if tag == "return-response":
            return None
        if tag == "set-variable":
            return known | {elem.attrib["name"]}
        if tag == "send-request":
            return known | {elem.attrib["response-variable-name"]}
        if tag == "cache-lookup-value" and "default-value" in elem.attrib:
            return known | {elem.attrib["variable-name"]}
        return known

    def check(self, root: ET.Element) -> list[str]:
        sections = {s.tag: s for s in _children(root)}
        known: set[str] | None = set()
        for name in ("inbound", "backend", "outbound"):
            if name in sections and known is not None:
                known = self.run(_children(sections[name]), known)
        if "on-error" in sections:
            # on-error can start anywhere: only reads that tolerate a missing variable.
            self._need(_all_codes(sections["on-error"]), set(), "on-error")
        return self.errors


def variables_read(root: ET.Element) -> set[str]:
    names: set[str] = set()
    for code in _all_codes(root):
        names |= strict_reads(code) | safe_reads(code)
    return names


_LITERAL_SHAPE = re.compile(r'^@\("([a-z]+):" \+ \(string\)context\.Variables\["[A-Za-z]+"\]\)$')
_VARIABLE_KEY = re.compile(r'^@\(\(string\)context\.Variables\["([A-Za-z]+)"\]\)$')


def key_shapes(root: ET.Element, key: str) -> set[str]:
    """The `<kind>:` prefixes a cache key expression can take."""
    literal = _LITERAL_SHAPE.match(key)
    if literal:
        return {literal.group(1)}
    variable = _VARIABLE_KEY.match(key)
    if variable:
        shapes: set[str] = set()
        for setter in root.iter("set-variable"):
            if setter.attrib["name"] == variable.group(1) and setter.attrib["value"] != '@("")':
                shapes |= key_shapes(root, setter.attrib["value"])
        return shapes
    raise AssertionError(f"cache key of unknown shape: {key}")
