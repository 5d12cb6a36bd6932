# ruff: noqa: E501  (policy XML and C# snippets read best unbroken)
"""The policy interpreter, element by element, against an in-memory stand-in for APIM services."""

from __future__ import annotations

import pytest

from batchgw.simulator.context import Context, Headers, Named, Request, Response
from batchgw.simulator.errors import PolicyError, UnsupportedPolicyError
from batchgw.simulator.policy import GLOBAL_POLICY, PolicyDocument


class FakeServices:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.cache: dict[str, object] = {}
        self.forwards: list[tuple[str | None, str, str, dict[str, str], bytes]] = []
        self.sent: list[Request] = []
        self.statuses = statuses or [200]

    def forward(self, ctx: Context, *, timeout: float, buffered: bool) -> Response:
        r = ctx.request
        self.forwards.append((r.backend_id, r.method, r.url, dict(r.headers.items()), r.body.data))
        status = self.statuses[min(len(self.forwards), len(self.statuses)) - 1]
        return Response(
            status, "", Headers([("Content-Type", "application/json")]), b'{"id": "file-new"}'
        )

    def send(self, request: Request, timeout: float) -> Response:
        self.sent.append(request)
        if "down" in request.url:
            raise PolicyError("send-request", "BackendConnectionFailure", "refused")
        return Response(404 if "missing" in request.url else 200, "", Headers(), b"{}")

    def cache_get(self, ctx: Context, key: str) -> object:
        return self.cache.get(key)

    def cache_set(self, ctx: Context, key: str, value: object, seconds: int) -> None:
        self.cache[key] = (value, seconds)

    def cache_delete(self, ctx: Context, key: str) -> None:
        self.cache.pop(key, None)

    def managed_identity_token(self, resource: str) -> str:
        return "mi-token:" + resource

    def backend_url(self, backend_id: str) -> str | None:
        return {"east": "https://east/openai/v1", "pool": "https://pool"}.get(backend_id)


def run(
    inbound: str = "",
    backend: str = "<base />",
    outbound: str = "",
    on_error: str = "",
    services: FakeServices | None = None,
    body: bytes = b'{"a": 1}',
) -> tuple[Context, Response, FakeServices]:
    xml = (
        f"<policies><inbound><base />{inbound}</inbound><backend>{backend}</backend>"
        f"<outbound><base />{outbound}</outbound><on-error>{on_error}</on-error></policies>"
    )
    doc = PolicyDocument(xml, parent=PolicyDocument(GLOBAL_POLICY))
    request = Request(
        "POST",
        "https://gw/openai/files/f1?x=1",
        Headers([("api-key", "secret"), ("x-in", "1")]),
        body,
    )
    request.base, request.path, request.query = "https://gw/openai", "/files/f1", "x=1"
    request.matched.put("file_id", "f1")
    ctx = Context(
        request,
        operation=Named("Operation", Id="op"),
        api=Named("Api"),
        subscription=None,
        deployment=Named("Deployment"),
    )
    fake = services or FakeServices()
    return ctx, doc.run(ctx, fake), fake


def test_base_in_backend_forwards_and_headers_are_set_per_section() -> None:
    ctx, response, fake = run(
        inbound='<set-header name="api-key" exists-action="delete" />'
        '<set-header name="x-in" exists-action="append"><value>2</value></set-header>'
        '<set-header name="x-new" exists-action="skip"><value>@("n")</value></set-header>'
        '<set-backend-service backend-id="east" />'
        '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />',
        outbound='<set-header name="x-backend-region" exists-action="override">'
        "<value>@(context.Response.StatusCode.ToString())</value></set-header>",
    )
    backend_id, method, url, headers, body = fake.forwards[0]
    assert (backend_id, method, url) == ("east", "POST", "https://east/openai/v1/files/f1?x=1")
    assert "api-key" not in headers and headers["Authorization"].startswith("Bearer mi-token:")
    assert ctx.request.headers.get("x-in") == "1,2" and headers["x-new"] == "n"
    assert response.headers.get("x-backend-region") == "200" and body == b'{"a": 1}'


def test_choose_variables_rewrite_and_query() -> None:
    ctx, _, fake = run(
        inbound=(
            '<set-variable name="n" value="@(2)" />'
            '<choose><when condition="@((int)context.Variables[&quot;n&quot;] &gt; 5)">'
            '<set-variable name="branch" value="big" /></when>'
            '<when condition="@((int)context.Variables[&quot;n&quot;] &gt; 1)">'
            '<set-variable name="branch" value="mid" /></when>'
            '<otherwise><set-variable name="branch" value="small" /></otherwise></choose>'
            '<rewrite-uri template="/files/{file_id}/content" />'
            '<set-query-parameter name="api-version" exists-action="override"><value>v1</value>'
            '</set-query-parameter><set-query-parameter name="x" exists-action="delete" />'
            '<set-backend-service base-url="https://east/openai/v1" />'
            "<set-method>GET</set-method>"
        )
    )
    assert ctx.variables.lookup("branch") == (True, "mid")
    assert fake.forwards[0][1:3] == (
        "GET",
        "https://east/openai/v1/files/f1/content?api-version=v1",
    )


def test_cache_elements_and_default_value() -> None:
    fake = FakeServices()
    fake.cache["file:f1"] = "westus3"
    ctx, _, _ = run(
        inbound=(
            '<cache-lookup-value key="@(&quot;file:&quot; + context.Request.MatchedParameters[&quot;file_id&quot;])" '
            'variable-name="hit" caching-type="external" />'
            '<cache-lookup-value key="nope" variable-name="miss" default-value="@(&quot;&quot;)" />'
            '<cache-lookup-value key="nope" variable-name="unset" />'
            '<cache-store-value key="k" value="@(&quot;v&quot;)" duration="60" caching-type="external" />'
            '<cache-remove-value key="file:f1" caching-type="external" />'
        ),
        services=fake,
    )
    assert ctx.variables.lookup("hit") == (True, "westus3")
    assert ctx.variables.lookup("miss") == (True, "")
    assert ctx.variables.lookup("unset") == (False, None)
    assert fake.cache == {"k": ("v", 60)}


def test_internal_cache_is_refused() -> None:
    with pytest.raises(UnsupportedPolicyError, match="caching-type `internal`"):
        run(inbound='<cache-lookup-value key="k" variable-name="v" caching-type="internal" />')


def test_retry_reruns_until_condition_false() -> None:
    fake = FakeServices([429, 503, 200])
    _ctx, response, _ = run(
        backend=(
            '<retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)" '
            'count="5" interval="0" first-fast-retry="true">'
            '<forward-request buffer-request-body="true" /></retry>'
        ),
        services=fake,
    )
    assert len(fake.forwards) == 3 and response.status == 200


def test_retry_stops_at_count() -> None:
    fake = FakeServices([429])
    _, response, _ = run(
        backend=(
            '<retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0">'
            '<forward-request buffer-request-body="true" /></retry>'
        ),
        services=fake,
    )
    assert len(fake.forwards) == 2 and response.status == 429


def test_unbuffered_replay_goes_to_on_error() -> None:
    fake = FakeServices([429])
    ctx, response, _ = run(
        backend=('<retry condition="@(true)" count="1" interval="0"><forward-request /></retry>'),
        on_error='<set-status code="502" reason="replay" />',
        services=fake,
    )
    assert response.status == 502
    assert ctx.last_error is not None and ctx.last_error.props["Reason"] == "RequestBodyNotBuffered"


def test_return_response_ends_pipeline() -> None:
    _, response, fake = run(
        inbound=(
            '<return-response><set-status code="404" reason="Not Found" />'
            '<set-header name="Content-Type" exists-action="override"><value>application/json</value>'
            '</set-header><set-body>@(new JObject(new JProperty("error", "x")).ToString())</set-body>'
            '</return-response><set-variable name="never" value="1" />'
        ),
        outbound='<set-header name="x-outbound" exists-action="override"><value>1</value></set-header>',
    )
    assert response.status == 404 and not fake.forwards
    assert response.body.data == b'{\n  "error": "x"\n}'
    assert not response.headers.has("x-outbound")


def test_expression_error_goes_to_on_error_with_last_error() -> None:
    _ctx, response, _ = run(
        inbound='<set-variable name="x" value="@(((string)null).Length)" />',
        on_error='<set-header name="x-error" exists-action="override">'
        "<value>@(context.LastError.Reason)</value></set-header>",
    )
    assert response.status == 500
    assert response.headers.get("x-error") == "ExpressionValueEvaluationFailure"


def test_send_request_probe_and_ignore_error() -> None:
    ctx, _, fake = run(
        inbound=(
            '<send-request mode="new" response-variable-name="probe" timeout="5" ignore-error="true">'
            '<set-url>@("https://east/openai/v1/files/" + "missing")</set-url><set-method>GET</set-method>'
            '<set-header name="x-probe" exists-action="override"><value>1</value></set-header>'
            '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />'
            "</send-request>"
            '<set-variable name="status" value="@(((IResponse)context.Variables[&quot;probe&quot;]).StatusCode)" />'
            '<send-request mode="new" response-variable-name="down" ignore-error="true">'
            "<set-url>https://down/x</set-url></send-request>"
        )
    )
    assert ctx.variables.lookup("status") == (True, 404)
    assert ctx.variables.lookup("down") == (True, None)
    assert (
        fake.sent[0].headers.get("Authorization")
        == "Bearer mi-token:https://cognitiveservices.azure.com"
    )


def test_set_body_in_inbound_replaces_request_body() -> None:
    _, _, fake = run(inbound='<set-body>@("replaced")</set-body>')
    assert fake.forwards[0][4] == b"replaced"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (
            '<policies><inbound><rate-limit calls="1" renewal-period="1" /></inbound></policies>',
            "rate-limit",
        ),
        (
            '<policies><inbound><set-variable name="a" value="{{secret}}" /></inbound></policies>',
            "named values",
        ),
        (
            '<policies><inbound><set-variable name="a" value="@(1 +)" /></inbound></policies>',
            "does not parse",
        ),
        ("<nope />", "root"),
    ],
)
def test_unknown_policy_content_fails_at_load(xml: str, message: str) -> None:
    with pytest.raises(UnsupportedPolicyError, match=message):
        PolicyDocument(xml)
