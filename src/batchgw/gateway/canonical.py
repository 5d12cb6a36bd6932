"""Compare the policy we send with the policy APIM returns. Pure.

APIM re-indents with tabs, uses CRLF, escapes entities in attributes (`&quot;`), may reorder
attributes or write `<x></x>` as `<x />`, and with `format=rawxml` returns expressions
unescaped (not XML). None of that is a change. The canonical form is one line per element with
sorted attributes, comments and layout whitespace dropped, and every policy expression reduced
to its C# tokens, so that only a change in meaning changes the string.
"""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET

from batchgw.gateway.expressions import escape_expressions, is_expression, normalize_expression


def _parse(xml: str) -> ET.Element:
    text = xml.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        # rawxml: expressions are unescaped; escape them the way render does and try again.
        return ET.fromstring(escape_expressions(text))


def _value(value: str) -> str:
    if is_expression(value):
        return normalize_expression(value.strip())
    return value


def _indent(text: str, pad: str) -> str:
    return text.replace("\n", "\n" + pad)


def _lines(elem: ET.Element, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    attrs = "".join(
        f' {name}="{_indent(_value(value), pad + "    ")}"'
        for name, value in sorted(elem.attrib.items())
    )
    children = list(elem)
    texts = [elem.text or ""] + [child.tail or "" for child in children]
    if not children and not texts[0].strip():
        out.append(f"{pad}<{elem.tag}{attrs} />")
        return
    if not children and "\n" not in _value(texts[0].strip()):
        out.append(f"{pad}<{elem.tag}{attrs}>{_value(texts[0].strip())}</{elem.tag}>")
        return
    out.append(f"{pad}<{elem.tag}{attrs}>")
    for index, text in enumerate(texts):
        if text.strip():
            out.append(pad + "  " + _indent(_value(text.strip()), pad + "  "))
        if index < len(children):
            _lines(children[index], depth + 1, out)
    out.append(f"{pad}</{elem.tag}>")


def canonical_policy(xml: str) -> str:
    """One string per meaning: equal for APIM's reformattings, different for any real edit."""
    root = _parse(xml)
    for parent in root.iter():
        for child in list(parent):
            if not isinstance(child.tag, str):  # comments, processing instructions
                parent.remove(child)
    out: list[str] = []
    _lines(root, 0, out)
    return "\n".join(out) + "\n"


def policy_diff(before: str, after: str) -> str:
    """Unified diff of the canonical forms ("" when they mean the same)."""
    return "".join(
        difflib.unified_diff(
            canonical_policy(before).splitlines(keepends=True),
            canonical_policy(after).splitlines(keepends=True),
            fromfile="deployed",
            tofile="desired",
        )
    )
