"""How APIM stores and returns policy documents.

APIM parses the policy on PUT and, on GET, writes it back re-indented with tabs and CRLF line
endings (terraform-provider-azurerm PR #3145 describes exactly this and adds a diff-suppress
for it). With ``format=xml`` (the default) the document must be well-formed XML, so a policy
expression containing ``"`` inside a double-quoted attribute is refused (azurerm issue #3918:
"'X-Header-Name' is an unexpected token. Expecting white space"), and GET returns the
expression escaped (``&quot;``, azurerm issue #6441). ``format=rawxml`` accepts expressions
unescaped and GET with ``format=rawxml`` returns them unescaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape


class PolicyError(ValueError):
    """The policy document could not be parsed (APIM answers 400 ValidationError)."""


def parse_policy(value: str, fmt: str) -> ET.Element:
    """Parse a policy as APIM does for format xml / rawxml."""
    text = _escape_expressions(value) if fmt.lower().startswith("rawxml") else value
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        parser.feed(text)
        return parser.close()
    except ET.ParseError as exc:
        raise PolicyError(f"Policy is not valid XML: {exc}") from exc


def render_policy(root: ET.Element, fmt: str) -> str:
    """The document as GET returns it: tabs, CRLF, expressions escaped unless rawxml."""
    raw = fmt.lower().startswith("rawxml")
    lines: list[str] = []
    _render(root, 0, raw, lines)
    return "\r\n".join(lines)


def _is_expression(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("@(", "@{"))


def _attr(value: str, raw: bool) -> str:
    if raw and _is_expression(value):
        return value
    return escape(value, {'"': "&quot;"})


def _text(value: str, raw: bool) -> str:
    if raw and _is_expression(value):
        return value
    return escape(value)


def _render(elem: ET.Element, depth: int, raw: bool, lines: list[str]) -> None:
    pad = "\t" * depth
    tag: object = elem.tag  # a str, or the ET.Comment factory for comment nodes
    if tag is ET.Comment:
        lines.append(f"{pad}<!--{elem.text or ''}-->")
        return
    attrs = "".join(f' {k}="{_attr(v, raw)}"' for k, v in elem.attrib.items())
    children = list(elem)
    text = elem.text or ""
    if not children and not text.strip():
        lines.append(f"{pad}<{elem.tag}{attrs} />")
        return
    if not children:
        lines.append(f"{pad}<{elem.tag}{attrs}>{_text(text, raw)}</{elem.tag}>")
        return
    lines.append(f"{pad}<{elem.tag}{attrs}>")
    if text.strip():
        lines.append(pad + "\t" + _text(text.strip(), raw))
    for child in children:
        _render(child, depth + 1, raw, lines)
        if child.tail and child.tail.strip():
            lines.append(pad + "\t" + _text(child.tail.strip(), raw))
    lines.append(f"{pad}</{elem.tag}>")


def _escape_expressions(value: str) -> str:
    """Make a rawxml document well-formed by XML-escaping the inside of @(...) and @{...}."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith(("@(", "@{"), i):
            end = _expression_end(value, i + 1)
            out.append("@" + escape(value[i + 1 : end], {'"': "&quot;"}))
            i = end
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _expression_end(value: str, start: int) -> int:
    """Index just after the bracket that closes the one at ``start``, skipping C# literals."""
    pairs = {"(": ")", "{": "}"}
    stack = [pairs[value[start]]]
    i = start + 1
    while i < len(value) and stack:
        ch = value[i]
        if ch in "\"'":
            i = _literal_end(value, i)
            continue
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch == stack[-1]:
            stack.pop()
        i += 1
    if stack:
        raise PolicyError("Policy expression is not closed")
    return i


def _literal_end(value: str, start: int) -> int:
    quote = value[start]
    i = start + 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == quote:
            return i + 1
        i += 1
    raise PolicyError("String literal in policy expression is not closed")
