# ruff: noqa: E501  (policy XML and C# snippets read best unbroken)
"""C# expression evaluation, table-driven: each form the policies use, and loud failures."""

from __future__ import annotations

import pytest

from batchgw.simulator.context import Context, Headers, Named, Request, Response
from batchgw.simulator.csharp import Expression
from batchgw.simulator.errors import CSharpError, UnsupportedPolicyError
from batchgw.simulator.jtoken import JObject, parse


def make_context() -> Context:
    request = Request(
        "POST",
        "https://gw/openai/files?limit=2",
        Headers([("x-session-id", "abc"), ("Content-Type", "application/json")]),
        b'{"input_file_id": "file-1", "n": 3, "nothing": null, "list": [3, 1, 2]}',
    )
    request.matched.put("file_id", "file-9")
    ctx = Context(
        request,
        operation=Named("Operation", Id="files-get"),
        api=Named("Api", Path="openai"),
        subscription=Named("Subscription", Id="sub"),
        deployment=Named("Deployment"),
    )
    ctx.variables.put("region", "eastus2")
    ctx.variables.put("count", 2)
    ctx.variables.put("flag", True)
    ctx.response = Response(
        429,
        headers=Headers([("Retry-After", "3")]),
        body=b'{"id": "resp_1", "data": [{"id": "a", "created_at": 1}, '
        b'{"id": "b", "created_at": 5}]}',
    )
    return ctx


CASES = [
    ("@(1 + 2 * 3 - 4 / 3 % 2)", 6),
    ('@("a" + 1 + true + null)', "a1True"),
    ("@(-7 / 2)", -3),
    ("@(10L)", 10),
    ("@(1.5 * 2)", 3.0),
    ("@('c')", "c"),
    ('@(@"x""y")', 'x"y'),
    ('@("tab\\tq\\"")', 'tab\tq"'),
    ('@($"{context.Variables["region"]}-{1 + 1}-{{x}}")', "eastus2-2-{x}"),
    (
        '@((string)context.Variables["region"] == "eastus2" && !(bool)context.Variables["flag"])',
        False,
    ),
    ('@((int)context.Variables["count"] > 1 ? "many" : "few")', "many"),
    ('@(context.Variables.GetValueOrDefault<string>("missing", "dflt"))', "dflt"),
    ('@(context.Variables.ContainsKey("region"))', True),
    ('@(context.Request.Headers.GetValueOrDefault("X-Session-Id", ""))', "abc"),
    ('@(context.Request.MatchedParameters["file_id"])', "file-9"),
    ('@(context.Request.Url.Query.GetValueOrDefault("limit", ""))', "2"),
    ("@(context.Request.Url.Path)", "/openai/files"),
    ("@(context.Operation.Id)", "files-get"),
    ("@(context.Response.StatusCode)", 429),
    (
        '@((string)context.Request.Body.As<JObject>(preserveContent: true)["input_file_id"])',
        "file-1",
    ),
    ('@(context.Request.Body.As<JObject>(preserveContent: true)["missing"] == null)', True),
    ('@(context.Request.Body.As<JObject>(preserveContent: true)["nothing"]?.ToString())', ""),
    ('@(context.Request.Body.As<JObject>(true)["nothing"].Type == JTokenType.Null)', True),
    ('@(context.Request.Body.As<JObject>(true).Value<int>("n"))', 3),
    (
        '@(context.Request.Body.As<JObject>(true)["list"].Select(x => (int)x).OrderBy(x => x).First())',
        1,
    ),
    ('@(string.Join(",", new[] { "b", "a", "b" }.Distinct()))', "b,a"),
    ('@(new[] { "a", "b" }.Contains("b"))', True),
    ('@(Array.IndexOf(new[] { "a", "b" }, "b"))', 1),
    ("@(Enumerable.Range(2, 3).Where(i => i != 3).Sum())", 6),
    ('@(new JObject(new JProperty("a", 1)).ToString(Formatting.None))', '{"a":1}'),
    ('@(JObject.Parse("{\\"a\\": [1]}")["a"][0].ToString())', "1"),
    ("@(\"a,b,,c\".Split(',').Length)", 4),
    ('@(" Hi ".Trim().ToLowerInvariant().StartsWith("h"))', True),
    ('@("abc".Substring(1) + "abc".IndexOf("c") + "abc".Replace("b", "x"))', "bc2axc"),
    ('@(String.IsNullOrEmpty(null) && string.IsNullOrEmpty(""))', True),
    ('@(Uri.EscapeDataString("a b/c"))', "a%20b%2Fc"),
    ('@(Convert.ToInt32("42") + Math.Max(1, 2))', 44),
    ('@(((IResponse)context.Response).Headers.GetValueOrDefault("Retry-After", ""))', "3"),
    (
        '@(context.Response.Body.As<JObject>(true)["data"].OrderByDescending(t => (long?)t["created_at"] ?? 0)'
        '.ThenBy(t => (string)t["id"]).Select(t => (string)t["id"]).First())',
        "b",
    ),
    ('@("abc".All(c => "abc".IndexOf(c) >= 0))', True),
    ('@(context.Variables.GetValueOrDefault<IResponse>("none") == null)', True),
    (
        "@{ var x = 0; foreach (var i in new[] {1, 2, 3}) { if (i == 2) { continue; } x += i; } return x; }",
        4,
    ),
    ("@{ int n = 0; for (int i = 0; i < 5; i++) { if (i == 3) { break; } n++; } return n; }", 3),
    ('@{ long parsed; return long.TryParse("12", out parsed) ? parsed : -1; }', 12),
    ('@{ int v; var ok = int.TryParse("x", out v); return ok.ToString() + v; }', "False0"),
    (
        '@{ try { return JObject.Parse("nope").ToString(); } catch (Exception) { return "bad"; } }',
        "bad",
    ),
    (
        '@{ var o = new JObject(); o["k"] = "v"; o["n"] = 2; return o.ToString(Formatting.None); }',
        '{"k":"v","n":2}',
    ),
    (
        "@{ var body = context.Response.Body.As<JObject>(preserveContent: true); "
        'return body["id"]?.Type == JTokenType.String ? (string)body["id"] : ""; }',
        "resp_1",
    ),
    ("@(Guid.NewGuid().ToString().Length)", 36),
    ("@(new Random().Next(1))", 0),
    ('@(context.Request.Body.As<JObject>(true) is JObject o && o.ContainsKey("n"))', True),
    ('@(context.Variables["missing"] as string)', "KeyNotFound"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:50] for c in CASES])
def test_expression(text: str, expected: object) -> None:
    ctx = make_context()
    if expected == "KeyNotFound":
        with pytest.raises(CSharpError, match="KeyNotFoundException"):
            Expression(text).evaluate({"context": ctx})
        return
    assert Expression(text).evaluate({"context": ctx}) == expected


def test_body_read_without_preserve_consumes_it() -> None:
    ctx = make_context()
    Expression("@(context.Request.Body.As<string>())").evaluate({"context": ctx})
    assert Expression("@(context.Request.Body.As<string>())").evaluate({"context": ctx}) == ""


def test_json_object_indented_like_newtonsoft() -> None:
    token = parse('{"a": {"b": 1}}')
    assert isinstance(token, JObject)
    assert Expression("@(o.ToString())").evaluate({"o": token}) == '{\n  "a": {\n    "b": 1\n  }\n}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@(context.Variables.Foo)", "Foo"),
        ('@(context.Request.Body.As<JObject>(true)["n"] == "3")', "reference equality"),
        ("@(new { a = 1 })", "anonymous_object_creation_expression"),
        ("@(x => )", "does not parse"),
        ("@(Thing.Do())", "unknown name `Thing`"),
        ('@("a".PadRight(3))', "PadRight"),
        ("@{ switch (1) { default: return 1; } }", "switch_statement"),
    ],
)
def test_outside_the_subset_fails_loudly(text: str, message: str) -> None:
    with pytest.raises(UnsupportedPolicyError, match=message) as info:
        Expression(text).evaluate({"context": make_context()})
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("text", "exception"),
    [
        ("@(((string)null).Length)", "NullReferenceException"),
        ('@((int)context.Variables["region"])', "InvalidCastException"),
        ('@(JObject.Parse("[1]"))', "JsonReaderException"),
        ("@(1 / 0)", "DivideByZeroException"),
        ('@{ throw new InvalidOperationException("no"); }', "InvalidOperationException"),
    ],
)
def test_runtime_exceptions_are_csharp_errors(text: str, exception: str) -> None:
    with pytest.raises(CSharpError, match=exception):
        Expression(text).evaluate({"context": make_context()})
