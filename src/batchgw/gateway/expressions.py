"""Policy expressions inside policy XML: find them, escape them, tokenize them. Pure.

Templates (and APIM's `rawxml` format) carry C# expressions unescaped: `condition="@(a == "b")"`.
Such text is not XML. `escape_expressions` finds each `@(...)` / `@{...}` that starts an attribute
value or an element's text, follows C# brackets and string literals to its end, and escapes
`& < > "` inside it, which makes the document well-formed without changing what APIM reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_OPENERS = {"(": ")", "{": "}", "[": "]"}
_CLOSERS = {")", "}", "]"}


class ExpressionSyntaxError(ValueError):
    """An expression whose brackets or string literals never close."""


def _skip_string(text: str, i: int) -> int:
    """Index just past the C# string or char literal starting at text[i] (a quote)."""
    quote = text[i]
    verbatim = quote == '"' and i > 0 and text[i - 1] == "@"
    j = i + 1
    while j < len(text):
        c = text[j]
        if verbatim and c == '"':
            if j + 1 < len(text) and text[j + 1] == '"':
                j += 2
                continue
            return j + 1
        if not verbatim and c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n" and not verbatim:
            break
        j += 1
    raise ExpressionSyntaxError(f"unterminated literal at offset {i}")


def _skip_comment(text: str, i: int) -> int | None:
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise ExpressionSyntaxError(f"unterminated comment at offset {i}")
        return end + 2
    return None


def expression_end(text: str, start: int) -> int:
    """Index just past the expression `@(`/`@{` starting at text[start] (the `@`)."""
    stack: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        skipped = _skip_comment(text, i)
        if skipped is not None:
            i = skipped
            continue
        if c in _OPENERS:
            stack.append(_OPENERS[c])
        elif c in _CLOSERS:
            if not stack or stack.pop() != c:
                raise ExpressionSyntaxError(f"unbalanced `{c}` at offset {i}")
            if not stack:
                return i + 1
        i += 1
    raise ExpressionSyntaxError(f"expression at offset {start} never closes")


def _expression_place(text: str, i: int) -> str | None:
    """ "attribute" or "text" when an expression starts at text[i], else None."""
    if not text.startswith(("@(", "@{"), i):
        return None
    before = text[:i]
    if before.endswith('"') and before[:-1].rstrip().endswith("="):
        return "attribute"
    if before.rstrip().endswith(">"):
        return "text"
    return None


def find_expressions(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, place) of every expression starting an attribute value or element text."""
    i = 0
    while True:
        i = text.find("@", i)
        if i < 0:
            return
        place = _expression_place(text, i)
        if place is None:
            i += 1
            continue
        end = expression_end(text, i)
        yield i, end, place
        i = end


def xml_escape(code: str, *, attribute: bool) -> str:
    """Escape C# for XML; `"` only needs it inside a (double-quoted) attribute."""
    escaped = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace('"', "&quot;") if attribute else escaped


def escape_expressions(text: str) -> str:
    """Raw (APIM `rawxml` style) policy text -> well-formed XML with the same meaning."""
    out: list[str] = []
    last = 0
    for start, end, place in find_expressions(text):
        out.append(text[last:start])
        out.append(xml_escape(text[start:end], attribute=place == "attribute"))
        last = end
    out.append(text[last:])
    return "".join(out)


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>@"(?:[^"]|"")*"|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)+')
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_.]*)
  | (?P<op>=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.|\+\+|--|\+=|-=|::|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(code: str) -> list[str]:
    """C# tokens of an expression, without whitespace or comments."""
    found: list[str] = []
    for match in _TOKEN.finditer(code):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        found.append(match.group())
    return found


_TIGHT_AFTER = {"(", "[", ".", "!", "@", "?."}
_TIGHT_BEFORE = {")", "]", ".", ",", ";", "[", "?."}
_KEYWORDS = {"if", "foreach", "while", "catch", "return", "in", "out", "new", "var"}


def _call_paren(previous: str, token: str) -> bool:
    """`f(` and `x[0](` read tight; `if (`, `+ (` and `return (` keep their space."""
    if token != "(":
        return False
    word = previous[:1].isalpha() or previous[:1] == "_"
    return (word and previous not in _KEYWORDS) or previous in (")", "]", ">")


def _is_word(token: str) -> bool:
    return token[:1].isalpha() or token[:1] == "_"


def _generic_at(parts: list[str], index: int) -> bool:
    """`As<JObject>`: a `<` or `>` that brackets one type name right after a member name."""
    if parts[index] == "<":
        window = parts[index - 1 : index + 3]
        return len(window) == 4 and _is_word(window[0]) and _is_word(window[2]) and window[3] == ">"
    if parts[index] == ">":
        return index >= 3 and _generic_at(parts, index - 2)
    return False


def _join(parts: list[str]) -> str:
    out = ""
    for index, token in enumerate(parts):
        previous = parts[index - 1] if index else ""
        tight = (
            previous in _TIGHT_AFTER
            or token in _TIGHT_BEFORE
            or _call_paren(previous, token)
            or _generic_at(parts, index)
            or (index > 0 and _generic_at(parts, index - 1) and previous == "<")
        )
        if index and not tight:
            out += " "
        out += token
    return out


_BLOCK_OPENERS = {")", "else", "try", "finally", "@"}


def normalize_expression(code: str) -> str:
    """One spelling per token stream: whitespace and layout never matter, tokens always do.

    A statement block (`@{...}`) gets one statement per line, indented by block depth, so a
    diff of two versions stays readable. Initialiser braces (`new[] { ... }`) stay inline.
    """
    found = tokens(code)
    if found[:2] != ["@", "{"]:
        return _join(found)
    lines: list[str] = []
    current: list[str] = []
    braces: list[bool] = []  # True for a statement block, False for an initialiser
    for index, token in enumerate(found):
        ends_line = token == ";" and not any(b is False for b in braces)
        if token == "{":
            block = (found[index - 1] if index else "") in _BLOCK_OPENERS
            braces.append(block)
            ends_line = block
        elif token == "}":
            block = braces.pop() if braces else True
            if block and current:
                lines.append("    " * len(braces) + "    " + _join(current))
                current = []
            ends_line = block
        depth = len(braces) - (1 if token == "{" and braces and braces[-1] else 0)
        if token == "}":
            depth = len(braces)
        current.append(token)
        if ends_line:
            lines.append("    " * depth + _join(current))
            current = []
    if current:
        lines.append("    " * len(braces) + _join(current))
    return "\n".join(lines)


def is_expression(value: str) -> bool:
    return value.strip().startswith(("@(", "@{"))
