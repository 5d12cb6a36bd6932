"""Parse policy expressions as C# with tree-sitter and list the .NET types they name."""

from __future__ import annotations

from functools import cache
from typing import Any

import tree_sitter_c_sharp
from tree_sitter import Language, Node, Parser

# Policy expressions may use only the .NET types listed in "API Management policy expressions",
# section ".NET Framework types allowed in policy expressions":
# https://learn.microsoft.com/azure/api-management/api-management-policy-expressions#CLRTypes
# (MicrosoftDocs/azure-docs, articles/api-management/api-management-policy-expressions.md).
# The subset our policies may name, by the spelling used in expressions:
ALLOWED_TYPES = {
    "string": "System.String",
    "int": "System.Int32",
    "long": "System.Int64",
    "bool": "System.Boolean",
    "char": "System.Char",
    "Array": "System.Array",
    "Enumerable": "System.Linq.Enumerable",
    "Math": "System.Math",
    "Random": "System.Random",
    "Guid": "System.Guid",
    "Uri": "System.Uri",
    "Exception": "System.Exception",
    "JObject": "Newtonsoft.Json.Linq.JObject",
    "JArray": "Newtonsoft.Json.Linq.JArray",
    "JProperty": "Newtonsoft.Json.Linq.JProperty",
    "JToken": "Newtonsoft.Json.Linq.JToken",
    "JTokenType": "Newtonsoft.Json.Linq.JTokenType",
    "JValue": "Newtonsoft.Json.Linq.JValue",
}
# Members of the implicit `context` (same page, "Context variable"); not .NET types.
CONTEXT_TYPES = {"IResponse"}
# The complete list from the docs page, to check ALLOWED_TYPES maps into it.
DOCUMENTED = {
    "System.String", "System.Int32", "System.Int64", "System.Boolean", "System.Char",
    "System.Array", "System.Linq.Enumerable", "System.Math", "System.Random", "System.Guid",
    "System.Uri", "System.Exception", "Newtonsoft.Json.Linq.JObject",
    "Newtonsoft.Json.Linq.JArray", "Newtonsoft.Json.Linq.JProperty",
    "Newtonsoft.Json.Linq.JToken", "Newtonsoft.Json.Linq.JTokenType",
    "Newtonsoft.Json.Linq.JValue", "System.Collections.Generic.List<T>",
    "System.Collections.Generic.IEnumerable<T>", "System.Text.RegularExpressions.Regex",
    "System.DateTime", "System.TimeSpan", "System.Convert", "System.Text.Encoding",
}  # fmt: skip

_PREFIX = "class __P { object __E() "
_SUFFIX = " }"


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_c_sharp.language()))


def wrap(code: str) -> str:
    """`@(e)` -> a method returning (e); `@{...}` -> a method body."""
    body = code.strip()[1:]
    if body.startswith("("):
        return _PREFIX + "{ return " + body + "; }" + _SUFFIX
    return _PREFIX + body + _SUFFIX


def parse(code: str) -> Any:
    return _parser().parse(wrap(code).encode())


def problems(tree: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            found.append(f"{node.type} at {node.start_point}: {node.text!r}")
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def type_names(tree: Any) -> set[str]:
    """Type names the expression mentions: casts, `new T`, generic arguments, static receivers,
    declared local types and catch types."""
    names: set[str] = set()
    locals_: set[str] = set()

    def walk(node: Node) -> None:
        kind = node.type
        if kind == "predefined_type":
            names.add(_text(node))
        elif kind == "nullable_type":
            names.add(_text(node).rstrip("?"))
        elif kind in ("cast_expression", "object_creation_expression", "catch_declaration"):
            type_node = node.child_by_field_name("type")
            if type_node is not None and type_node.type == "identifier":
                names.add(_text(type_node))
        elif kind == "type_argument_list":
            for child in node.named_children:
                if child.type == "identifier":
                    names.add(_text(child))
        elif kind == "member_access_expression":
            receiver = node.child_by_field_name("expression")
            if receiver is not None and receiver.type == "identifier":
                text = _text(receiver)
                if text[:1].isupper():
                    names.add(text)
        elif kind == "variable_declarator":
            name = node.child_by_field_name("name")
            if name is not None:
                locals_.add(_text(name))
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return {n for n in names if n not in ("__P", "var", "object") and n not in locals_}
