"""C# policy expressions: parsed with tree-sitter-c-sharp, evaluated over the runtime model.

`@(expr)` is wrapped as `return (expr);` and `@{ ... }` as a method body, so both parse as real C#.
The evaluator walks the syntax tree. A node type, operator or call outside the modelled subset
raises `UnsupportedPolicyError` naming it, so a policy never runs on a guess.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from batchgw.simulator import runtime as rt
from batchgw.simulator.errors import CSharpError, UnsupportedPolicyError
from batchgw.simulator.jtoken import JArray, JObject
from batchgw.simulator.runtime import StaticType

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

_PREFIX = "class __Policy { object __Expression() "
_SUFFIX = " }"
_LOCK = threading.Lock()
_MAX_LOOP = 100_000


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _NullChain(Exception):
    """`a?.b` met a null: the whole access chain evaluates to null."""


def _parser() -> Callable[[bytes], Tree]:
    import tree_sitter
    import tree_sitter_c_sharp

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c_sharp.language()))
    return parser.parse


@lru_cache(maxsize=1)
def _parse_fn() -> Callable[[bytes], Tree]:
    return _parser()


@lru_cache(maxsize=4096)
def _compile(source: str) -> Node:
    """The method body of the wrapped expression (cached: policies repeat the same texts)."""
    with _LOCK:
        tree = _parse_fn()(source.encode("utf-8"))
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root)
        where = bad.text.decode("utf-8", errors="replace") if bad is not None and bad.text else ""
        raise UnsupportedPolicyError(f"does not parse as C# (near `{where[:60]}`)")
    cls = root.named_children[0]
    body = cls.child_by_field_name("body")
    assert body is not None
    method = body.named_children[0]
    block = method.child_by_field_name("body")
    assert block is not None
    return block


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return None


def is_expression(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("@(", "@{"))


class Expression:
    """One `@(...)` or `@{...}` policy expression, parsed once."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if self.text.startswith("@(") and self.text.endswith(")"):
            source = _PREFIX + "{ return " + self.text[1:] + "; }" + _SUFFIX
        elif self.text.startswith("@{") and self.text.endswith("}"):
            source = _PREFIX + self.text[1:] + _SUFFIX
        else:
            raise UnsupportedPolicyError("not a policy expression", expression=self.text)
        try:
            self.block = _compile(source)
        except UnsupportedPolicyError as exc:
            raise exc.located("", self.text) from None

    def evaluate(self, globals_: dict[str, object]) -> object:
        try:
            Evaluator(globals_).exec_block(self.block, Scope(None))
        except _Return as ret:
            return ret.value
        except UnsupportedPolicyError as exc:
            raise exc.located("", self.text) from None
        raise UnsupportedPolicyError("statement block ends without return", expression=self.text)


class Scope:
    def __init__(self, parent: Scope | None) -> None:
        self.parent = parent
        self.names: dict[str, object] = {}

    def find(self, name: str) -> Scope | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope
            scope = scope.parent
        return None


def _text(node: Node) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def _field(node: Node, name: str) -> Node:
    child = node.child_by_field_name(name)
    if child is None:
        raise UnsupportedPolicyError(f"`{_text(node)}`: missing {name}")
    return child


def _operator(node: Node) -> str:
    op = node.child_by_field_name("operator")
    if op is not None:
        return op.type
    for child in node.children:
        if not child.is_named:
            return child.type
    raise UnsupportedPolicyError(f"no operator in `{_text(node)}`")


def type_name(node: Node) -> tuple[str, tuple[str, ...]]:
    """A type node as (name, type arguments): `List<string>` -> ("List", ("string",))."""
    if node.type == "generic_name":
        ident = node.named_children[0]
        targs = node.named_children[1]
        return _text(ident), tuple(_text(t) for t in targs.named_children)
    if node.type == "qualified_name":
        return _text(node).rsplit(".", 1)[-1], ()
    return _text(node), ()


_ESCAPES = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{1,4}|.)")


def _unescape(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "ux":
            return chr(int(code[1:], 16))
        return codecs.decode("\\" + code, "unicode_escape") if code in "nrt0abfv\\" else code

    return _ESCAPES.sub(sub, text)


_CHAIN = {
    "member_access_expression": "expression",
    "invocation_expression": "function",
    "element_access_expression": "expression",
    "conditional_access_expression": "condition",
}


def _continues_chain(node: Node) -> bool:
    parent = node.parent
    if parent is None or parent.type not in _CHAIN:
        return False
    link = parent.child_by_field_name(_CHAIN[parent.type])
    return link is not None and link.id == node.id


class Evaluator:
    def __init__(self, globals_: dict[str, object]) -> None:
        self.globals = globals_

    # ------------------------------------------------------------ statements

    def exec_block(self, node: Node, scope: Scope) -> None:
        inner = Scope(scope)
        for stmt in node.named_children:
            self.exec(stmt, inner)

    def exec(self, node: Node, scope: Scope) -> None:
        kind = node.type
        if kind == "block":
            self.exec_block(node, scope)
        elif kind == "local_declaration_statement":
            self._declare(node.named_children[0], scope)
        elif kind == "expression_statement":
            self.eval(node.named_children[0], scope)
        elif kind == "return_statement":
            value = self.eval(node.named_children[0], scope) if node.named_children else None
            raise _Return(value)
        elif kind == "if_statement":
            if rt.truthy(self.eval(_field(node, "condition"), scope), "if condition"):
                self.exec(_field(node, "consequence"), Scope(scope))
            elif node.child_by_field_name("alternative") is not None:
                self.exec(_field(node, "alternative"), Scope(scope))
        elif kind == "foreach_statement":
            self._foreach(node, scope)
        elif kind in ("for_statement", "while_statement"):
            self._loop(node, scope)
        elif kind == "break_statement":
            raise _Break
        elif kind == "continue_statement":
            raise _Continue
        elif kind == "try_statement":
            self._try(node, scope)
        elif kind == "throw_statement":
            self._throw(node, scope)
        elif kind == "empty_statement":
            pass
        else:
            raise UnsupportedPolicyError(f"C# statement `{kind}` is not modelled")

    def _declare(self, decl: Node, scope: Scope) -> None:
        for declarator in decl.named_children[1:]:
            if declarator.type != "variable_declarator":
                raise UnsupportedPolicyError(f"declaration `{_text(decl)}` is not modelled")
            name = _text(_field(declarator, "name"))
            values = [c for c in declarator.named_children if c.id != _field(declarator, "name").id]
            scope.names[name] = self.eval(values[-1], scope) if values else None

    def _foreach(self, node: Node, scope: Scope) -> None:
        name = _text(_field(node, "left"))
        for item in rt.enumerate_cs(self.eval(_field(node, "right"), scope)):
            inner = Scope(scope)
            inner.names[name] = item
            try:
                self.exec(_field(node, "body"), inner)
            except _Break:
                break
            except _Continue:
                continue

    def _loop(self, node: Node, scope: Scope) -> None:
        outer = Scope(scope)
        init = node.child_by_field_name("initializer")
        if init is not None:
            if init.type == "variable_declaration":
                self._declare(init, outer)
            else:
                self.eval(init, outer)
        cond = node.child_by_field_name("condition")
        update = node.child_by_field_name("update")
        for _ in range(_MAX_LOOP):
            if cond is not None and not rt.truthy(self.eval(cond, outer), "loop condition"):
                return
            try:
                self.exec(_field(node, "body"), Scope(outer))
            except _Break:
                return
            except _Continue:
                pass
            if update is not None:
                self.eval(update, outer)
        raise UnsupportedPolicyError(f"loop ran more than {_MAX_LOOP} times")

    def _try(self, node: Node, scope: Scope) -> None:
        catches = [c for c in node.named_children if c.type == "catch_clause"]
        final = [c for c in node.named_children if c.type == "finally_clause"]
        try:
            self.exec(_field(node, "body"), scope)
        except CSharpError as exc:
            for clause in catches:
                decl = next(
                    (c for c in clause.named_children if c.type == "catch_declaration"), None
                )
                if any(c.type == "catch_filter_clause" for c in clause.named_children):
                    raise UnsupportedPolicyError("catch filters are not modelled") from None
                caught = "Exception" if decl is None else type_name(_field(decl, "type"))[0]
                if caught in ("Exception", exc.type_name):
                    inner = Scope(scope)
                    if decl is not None and decl.child_by_field_name("name") is not None:
                        inner.names[_text(_field(decl, "name"))] = exc
                    self.exec(_field(clause, "body"), inner)
                    break
            else:
                raise
        finally:
            for clause in final:
                self.exec(clause.named_children[-1], scope)

    def _throw(self, node: Node, scope: Scope) -> None:
        if not node.named_children:
            raise UnsupportedPolicyError("rethrow outside a catch is not modelled")
        value = self.eval(node.named_children[0], scope)
        if isinstance(value, CSharpError):
            raise value
        raise UnsupportedPolicyError("throwing a non-exception value")

    # ------------------------------------------------------------ expressions

    def eval(self, node: Node, scope: Scope) -> object:
        handler = _HANDLERS.get(node.type)
        if handler is None:
            raise UnsupportedPolicyError(f"C# construct `{node.type}` (`{_text(node)[:60]}`)")
        if node.type not in _CHAIN:
            return handler(self, node, scope)
        try:
            return handler(self, node, scope)
        except _NullChain:
            if _continues_chain(node):
                raise
            return None

    def _identifier(self, node: Node, scope: Scope) -> object:
        name = _text(node)
        found = scope.find(name)
        if found is not None:
            return found.names[name]
        if name in self.globals:
            return self.globals[name]
        if name in rt.STATIC_TYPES:
            return StaticType(name)
        if name in rt.NAMESPACES:
            return rt.Namespace(name)
        raise UnsupportedPolicyError(f"unknown name `{name}`")

    def _literal(self, node: Node, scope: Scope) -> object:
        text = _text(node)
        kind = node.type
        if kind == "null_literal":
            return None
        if kind == "boolean_literal":
            return text == "true"
        if kind == "integer_literal":
            digits = text.replace("_", "").rstrip("uUlL")
            return int(digits, 16) if digits.lower().startswith("0x") else int(digits)
        if kind == "real_literal":
            return float(text.replace("_", "").rstrip("fFdDmM"))
        if kind == "character_literal":
            return _unescape(text[1:-1])
        if kind == "verbatim_string_literal":
            return text[2:-1].replace('""', '"')
        if kind == "string_literal":
            if text.startswith('"""'):
                raise UnsupportedPolicyError("raw string literals are not modelled")
            return _unescape(text[1:-1])
        raise UnsupportedPolicyError(f"literal `{text}`")

    def _interpolated(self, node: Node, scope: Scope) -> str:
        verbatim = "@" in _text(node.named_children[0]) if node.named_children else False
        out: list[str] = []
        for child in node.named_children:
            if child.type == "string_content":
                piece = _text(child).replace("{{", "{").replace("}}", "}")
                out.append(piece.replace('""', '"') if verbatim else piece)
            elif child.type == "escape_sequence":
                out.append(_text(child) if verbatim else _unescape(_text(child)))
            elif child.type == "interpolation":
                parts = [c for c in child.named_children if c.type != "interpolation_brace"]
                if len(parts) != 1:
                    raise UnsupportedPolicyError(
                        f"interpolation format/alignment `{_text(child)}` is not modelled"
                    )
                out.append(rt.cs_str(self.eval(parts[0], scope)))
            elif child.type not in ("interpolation_start", "interpolation_end"):
                raise UnsupportedPolicyError(f"interpolated string part `{child.type}`")
        return "".join(out)

    def _paren(self, node: Node, scope: Scope) -> object:
        return self.eval(node.named_children[0], scope)

    def _binary(self, node: Node, scope: Scope) -> object:
        op = _operator(node)
        left_node, right_node = _field(node, "left"), _field(node, "right")
        if op == "&&":
            return rt.truthy(self.eval(left_node, scope), "&&") and rt.truthy(
                self.eval(right_node, scope), "&&"
            )
        if op == "||":
            return rt.truthy(self.eval(left_node, scope), "||") or rt.truthy(
                self.eval(right_node, scope), "||"
            )
        left = self.eval(left_node, scope)
        if op == "??":
            return left if left is not None else self.eval(right_node, scope)
        right = self.eval(right_node, scope)
        if op == "==":
            return rt.cs_equals(left, right)
        if op == "!=":
            return not rt.cs_equals(left, right)
        if op in ("<", ">", "<=", ">="):
            if left is None or right is None:
                return False
            c = rt.compare(left, right)
            return {"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op]
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            return rt.cs_str(left) + rt.cs_str(right)
        if op in ("&", "|", "^") and isinstance(left, bool) and isinstance(right, bool):
            return {"&": left and right, "|": left or right, "^": left != right}[op]
        return _arith(op, left, right, _text(node))

    def _unary(self, node: Node, scope: Scope) -> object:
        op = _operator(node)
        operand = node.named_children[0]
        if op in ("++", "--"):
            return self._increment(node, operand, op, scope)
        value = self.eval(operand, scope)
        if op == "!" and node.type == "postfix_unary_expression":
            return value
        if op == "!":
            return not rt.truthy(value, "!")
        if op == "-" and isinstance(value, int | float):
            return -value
        if op == "+" and isinstance(value, int | float):
            return value
        raise UnsupportedPolicyError(f"unary `{op}` on {type(value).__name__}")

    def _increment(self, node: Node, target: Node, op: str, scope: Scope) -> object:
        old = self.eval(target, scope)
        if not isinstance(old, int):
            raise UnsupportedPolicyError(f"`{op}` on {type(old).__name__}")
        new = old + (1 if op == "++" else -1)
        self._store(target, new, scope)
        return new if node.type == "prefix_unary_expression" else old

    def _assign(self, node: Node, scope: Scope) -> object:
        op = _operator(node)
        left = _field(node, "left")
        value = self.eval(_field(node, "right"), scope)
        if op == "??=":
            current = self.eval(left, scope)
            if current is not None:
                return current
        elif op != "=":
            current = self.eval(left, scope)
            bin_op = op[:-1]
            if bin_op == "+" and (isinstance(current, str) or isinstance(value, str)):
                value = rt.cs_str(current) + rt.cs_str(value)
            else:
                value = _arith(bin_op, current, value, _text(node))
        self._store(left, value, scope)
        return value

    def _store(self, target: Node, value: object, scope: Scope) -> None:
        if target.type == "identifier":
            name = _text(target)
            found = scope.find(name)
            if found is None:
                raise UnsupportedPolicyError(f"assignment to undeclared `{name}`")
            found.names[name] = value
        elif target.type == "element_access_expression":
            obj = self.eval(_field(target, "expression"), scope)
            rt.indexer_set(obj, self._subscript(_field(target, "subscript"), scope), value)
        else:
            raise UnsupportedPolicyError(f"assignment to `{_text(target)}`")

    def _conditional(self, node: Node, scope: Scope) -> object:
        if rt.truthy(self.eval(_field(node, "condition"), scope), "?: condition"):
            return self.eval(_field(node, "consequence"), scope)
        return self.eval(_field(node, "alternative"), scope)

    def _subscript(self, node: Node, scope: Scope) -> object:
        args = [a for a in node.named_children if a.type == "argument"]
        if len(args) != 1:
            raise UnsupportedPolicyError(f"indexer with {len(args)} arguments")
        return self.eval(args[0].named_children[-1], scope)

    def _member(self, node: Node, scope: Scope) -> object:
        target = self.eval(_field(node, "expression"), scope)
        name, _ = type_name(_field(node, "name"))
        return rt.get_member(target, name)

    def _element(self, node: Node, scope: Scope) -> object:
        target = self.eval(_field(node, "expression"), scope)
        return rt.indexer_get(target, self._subscript(_field(node, "subscript"), scope))

    def _cond_access(self, node: Node, scope: Scope) -> object:
        target = self.eval(_field(node, "condition"), scope)
        if target is None:
            raise _NullChain
        binding = node.named_children[-1]
        if binding.type == "member_binding_expression":
            return rt.get_member(target, type_name(_field(binding, "name"))[0])
        if binding.type == "element_binding_expression":
            return rt.indexer_get(target, self._subscript(binding, scope))
        raise UnsupportedPolicyError(f"conditional access `{_text(node)}`")

    def _arguments(self, node: Node | None, scope: Scope) -> tuple[list[object], dict[str, object]]:
        args: list[object] = []
        named: dict[str, object] = {}
        if node is None:
            return args, named
        for arg in node.named_children:
            if any(not c.is_named and c.type in ("out", "ref", "in") for c in arg.children):
                raise UnsupportedPolicyError(f"`{_text(arg)}` (out/ref arguments) is not modelled")
            name_node = arg.child_by_field_name("name")
            value = self.eval(arg.named_children[-1], scope)
            if name_node is not None:
                named[_text(name_node)] = value
            else:
                args.append(value)
        return args, named

    def _try_parse(self, node: Node, scope: Scope) -> object:
        """`long.TryParse(text, out parsed)`, the only out-argument call modelled."""
        fn = _field(node, "function")
        arg_nodes = _field(node, "arguments").named_children
        if fn.type != "member_access_expression" or len(arg_nodes) != 2:
            raise UnsupportedPolicyError(f"`{_text(node)}` (out arguments) is not modelled")
        target = self.eval(_field(fn, "expression"), scope)
        if not isinstance(target, StaticType):
            raise UnsupportedPolicyError(f"`{_text(node)}` is not modelled")
        ok, value = rt.try_parse(target.name, self.eval(arg_nodes[0].named_children[-1], scope))
        out = arg_nodes[1].named_children[-1]
        if out.type == "declaration_expression":
            scope.names[_text(_field(out, "name"))] = value
        else:
            self._store(out, value, scope)
        return ok

    def _invoke(self, node: Node, scope: Scope) -> object:
        fn = _field(node, "function")
        if fn.type == "member_access_expression" and _text(_field(fn, "name")) == "TryParse":
            return self._try_parse(node, scope)
        args, named = self._arguments(node.child_by_field_name("arguments"), scope)
        if fn.type == "member_access_expression":
            target = self.eval(_field(fn, "expression"), scope)
            name, targs = type_name(_field(fn, "name"))
            return rt.call_method(target, name, targs, args, named)
        if fn.type == "conditional_access_expression":
            target = self.eval(_field(fn, "condition"), scope)
            if target is None:
                raise _NullChain
            binding = fn.named_children[-1]
            if binding.type != "member_binding_expression":
                raise UnsupportedPolicyError(f"call `{_text(node)}`")
            name, targs = type_name(_field(binding, "name"))
            return rt.call_method(target, name, targs, args, named)
        if fn.type == "identifier":
            value = self._identifier(fn, scope)
            if callable(value):
                return value(*args)
        raise UnsupportedPolicyError(f"call `{_text(node)[:60]}`")

    def _lambda(self, node: Node, scope: Scope) -> Callable[..., object]:
        params = _field(node, "parameters")
        if params.type == "implicit_parameter" or params.type == "identifier":
            names = [_text(params)]
        else:
            names = [_text(_field(p, "name")) for p in params.named_children]
        body = _field(node, "body")

        def call(*args: object) -> object:
            inner = Scope(scope)
            inner.names.update(zip(names, args, strict=True))
            if body.type == "block":
                try:
                    self.exec_block(body, inner)
                except _Return as ret:
                    return ret.value
                return None
            return self.eval(body, inner)

        return call

    def _cast(self, node: Node, scope: Scope) -> object:
        value = self.eval(_field(node, "value"), scope)
        return rt.cast_value(value, _text(_field(node, "type")))

    def _as(self, node: Node, scope: Scope) -> object:
        value = self.eval(_field(node, "left"), scope)
        target = _text(_field(node, "right"))
        return value if value is not None and rt.is_type(value, target) else None

    def _is(self, node: Node, scope: Scope) -> object:
        value = self.eval(_field(node, "expression"), scope)
        return self._match(_field(node, "pattern"), value, scope)

    def _match(self, pattern: Node, value: object, scope: Scope) -> bool:
        if pattern.type == "negated_pattern":
            return not self._match(pattern.named_children[0], value, scope)
        if pattern.type == "constant_pattern":
            inner = pattern.named_children[0]
            if inner.type == "null_literal":
                return value is None
            if inner.type in ("identifier", "predefined_type") and _text(
                inner
            ) in rt.STATIC_TYPES | {"JObject", "JArray", "JToken", "JValue", "string", "IResponse"}:
                return value is not None and rt.is_type(value, _text(inner))
            return rt.cs_equals(value, self.eval(inner, scope))
        if pattern.type == "declaration_pattern":
            ok = value is not None and rt.is_type(value, _text(_field(pattern, "type")))
            if ok:
                scope.names[_text(_field(pattern, "name"))] = value
            return ok
        if pattern.type == "type_pattern":
            return value is not None and rt.is_type(value, _text(pattern))
        raise UnsupportedPolicyError(f"pattern `{_text(pattern)}` is not modelled")

    def _new(self, node: Node, scope: Scope) -> object:
        name, targs = type_name(_field(node, "type"))
        args, named = self._arguments(node.child_by_field_name("arguments"), scope)
        if named:
            raise UnsupportedPolicyError("named constructor arguments are not modelled")
        if name.endswith("Exception"):
            message = rt.cs_str(args[0]) if args else ""
            return CSharpError(name, message)
        obj = rt.construct(name, targs, args)
        init = node.child_by_field_name("initializer")
        if init is not None:
            for item in init.named_children:
                if item.type == "assignment_expression" and isinstance(obj, JObject):
                    key_node = _field(item, "left")
                    if key_node.type != "element_binding_expression":
                        raise UnsupportedPolicyError(f"initializer `{_text(item)}`")
                    key = self._subscript(key_node, scope)
                    rt.indexer_set(obj, key, self.eval(_field(item, "right"), scope))
                elif isinstance(obj, list):
                    obj.append(self.eval(item, scope))
                elif isinstance(obj, JArray):
                    rt.call_method(obj, "Add", (), [self.eval(item, scope)], {})
                else:
                    raise UnsupportedPolicyError(f"initializer `{_text(item)}`")
        return obj

    def _array(self, node: Node, scope: Scope) -> object:
        init = next((c for c in node.named_children if c.type == "initializer_expression"), None)
        if init is None:
            raise UnsupportedPolicyError(f"array creation without initializer `{_text(node)}`")
        return [self.eval(item, scope) for item in init.named_children]

    def _default(self, node: Node, scope: Scope) -> object:
        t = _text(node.named_children[0]) if node.named_children else "object"
        return {"int": 0, "long": 0, "bool": False, "double": 0.0}.get(t)

    def _predefined(self, node: Node, scope: Scope) -> object:
        return StaticType(_text(node))


def _arith(op: str, left: object, right: object, text: str) -> object:
    if left is None or right is None:
        return None  # lifted arithmetic on nullable operands
    if (
        not (isinstance(left, int | float) and isinstance(right, int | float))
        or isinstance(left, bool)
        or isinstance(right, bool)
    ):
        raise UnsupportedPolicyError(
            f"operator `{op}` on {type(left).__name__} and {type(right).__name__} in `{text}`"
        )
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op in ("/", "%"):
        if right == 0 and isinstance(right, int) and isinstance(left, int):
            raise CSharpError("DivideByZeroException", "attempted to divide by zero")
        if isinstance(left, int) and isinstance(right, int):
            q = abs(left) // abs(right) * (1 if (left >= 0) == (right >= 0) else -1)
            return q if op == "/" else left - q * right
        return left / right if op == "/" else left % right
    raise UnsupportedPolicyError(f"operator `{op}` in `{text}`")


_Handler = Callable[[Evaluator, "Node", Scope], object]
_HANDLERS: dict[str, _Handler] = {
    "identifier": Evaluator._identifier,
    "null_literal": Evaluator._literal,
    "boolean_literal": Evaluator._literal,
    "integer_literal": Evaluator._literal,
    "real_literal": Evaluator._literal,
    "character_literal": Evaluator._literal,
    "string_literal": Evaluator._literal,
    "verbatim_string_literal": Evaluator._literal,
    "interpolated_string_expression": Evaluator._interpolated,
    "parenthesized_expression": Evaluator._paren,
    "binary_expression": Evaluator._binary,
    "prefix_unary_expression": Evaluator._unary,
    "postfix_unary_expression": Evaluator._unary,
    "assignment_expression": Evaluator._assign,
    "conditional_expression": Evaluator._conditional,
    "member_access_expression": Evaluator._member,
    "element_access_expression": Evaluator._element,
    "conditional_access_expression": Evaluator._cond_access,
    "invocation_expression": Evaluator._invoke,
    "lambda_expression": Evaluator._lambda,
    "cast_expression": Evaluator._cast,
    "as_expression": Evaluator._as,
    "is_pattern_expression": Evaluator._is,
    "object_creation_expression": Evaluator._new,
    "array_creation_expression": Evaluator._array,
    "implicit_array_creation_expression": Evaluator._array,
    "default_expression": Evaluator._default,
    "predefined_type": Evaluator._predefined,
}
