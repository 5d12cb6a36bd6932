"""render.py: the plan, endpoints and errors as text and as contract JSON."""

from __future__ import annotations

import io
import json
import textwrap

import pytest
from pydantic import SecretStr
from rich.console import Console

from batchgw.endpoints import Endpoints
from batchgw.errors import AzureCallError, BatchgwError, ConfigError
from batchgw.gateway.canonical import policy_diff
from batchgw.plan import SENSITIVE, UNKNOWN, Action, Change, Plan
from batchgw.render import (
    endpoints_to_json,
    error_to_json,
    format_value,
    plan_to_json,
    render_endpoints,
    render_plan,
    to_json_value,
)

APIM_TYPE = "Microsoft.ApiManagement/service"
BACKEND_TYPE = "Microsoft.ApiManagement/service/backends"
POLICY_TYPE = "Microsoft.ApiManagement/service/apis/policies"
CACHE_TYPE = "Microsoft.ApiManagement/service/caches"
RG_ID = "/subscriptions/s/resourceGroups/rg-batchgw-dev"
APIM_ID = f"{RG_ID}/providers/Microsoft.ApiManagement/service/apim-x"

CREATE = Change(
    "ensure_apim",
    Action.CREATE,
    APIM_TYPE,
    "apim-x",
    APIM_ID,
    {
        "sku": (None, "Developer"),
        "capacity": (None, 1),
        "tags": (None, {"managed-by": "batchgw", "batchgw-environment": "dev"}),
        "identity.principalId": (None, UNKNOWN),
        "connectionString": (None, SENSITIVE),
    },
    note="Developer tier takes 30-45 min",
)
UPDATE = Change(
    "ensure_backends",
    Action.UPDATE,
    BACKEND_TYPE,
    "foundry-eastus2",
    f"{APIM_ID}/backends/foundry-eastus2",
    {
        "url": ("https://old.openai.azure.com/openai/v1", "https://new.openai.azure.com/openai/v1"),
        "circuitBreaker": (None, "trip 3 x [429, 500-599] within PT10S"),
        "pool.services": (("a weight=1",), ("a weight=1", "b weight=2")),
    },
)
DELETE = Change(
    "ensure_backends",
    Action.DELETE,
    BACKEND_TYPE,
    "foundry-westus3",
    f"{APIM_ID}/backends/foundry-westus3",
    {"url": ("https://west.openai.azure.com/openai/v1", None)},
)

POLICY_BEFORE = (
    "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n"
    '\t\t<set-header name="x-a" exists-action="override"><value>1</value></set-header>\r\n'
    "\t</inbound>\r\n\t<backend><base /></backend>\r\n</policies>"
)
POLICY_AFTER = textwrap.dedent(
    """\
    <policies>
      <inbound>
        <base />
        <set-header name="x-a" exists-action="override"><value>2</value></set-header>
      </inbound>
      <backend><base /></backend>
    </policies>
    """
)


def recorder() -> Console:
    return Console(file=io.StringIO(), width=100, no_color=True, force_terminal=False, record=True)


def plan_text(plan: Plan, title: str = "") -> str:
    console = recorder()
    render_plan(plan, console, title=title)
    return console.export_text()


def test_create_with_unknown_and_sensitive_values() -> None:
    assert plan_text(Plan((CREATE,))) == textwrap.dedent(
        """\
          + Microsoft.ApiManagement/service apim-x
              Developer tier takes 30-45 min
              + sku = "Developer"
              + capacity = 1
              + tags = {managed-by=batchgw, batchgw-environment=dev}
              + identity.principalId = (known after apply)
              + connectionString = (sensitive)

        Plan: 1 to add, 0 to change, 0 to destroy.
        """
    )


def test_update_shows_each_field_before_and_after() -> None:
    assert plan_text(Plan((UPDATE,))) == textwrap.dedent(
        """\
          ~ Microsoft.ApiManagement/service/backends foundry-eastus2
              ~ url: "https://old.openai.azure.com/openai/v1" -> "https://new.openai.azure.com/openai/v1"
              ~ circuitBreaker: null -> "trip 3 x [429, 500-599] within PT10S"
              ~ pool.services: ["a weight=1"] -> ["a weight=1", "b weight=2"]

        Plan: 0 to add, 1 to change, 0 to destroy.
        """
    )


def test_delete_with_title_and_warnings() -> None:
    plan = Plan((DELETE,), warnings=("foundry `batch-west` is in westus3, not westus",))
    assert plan_text(plan, title="batchgw plan: dev") == textwrap.dedent(
        """\
        batchgw plan: dev

          - Microsoft.ApiManagement/service/backends foundry-westus3
              - url = "https://west.openai.azure.com/openai/v1"

        Warning: foundry `batch-west` is in westus3, not westus

        Plan: 0 to add, 0 to change, 1 to destroy.
        """
    )


def test_policy_update_shows_the_canonical_diff() -> None:
    change = Change(
        "ensure_apis",
        Action.UPDATE,
        POLICY_TYPE,
        "openai/policy",
        f"{APIM_ID}/apis/openai/policies/policy",
        {"policy": (POLICY_BEFORE, POLICY_AFTER)},
    )
    diff = policy_diff(POLICY_BEFORE, POLICY_AFTER)
    body = "".join(f"          {line}".rstrip() + "\n" for line in diff.splitlines())
    text = plan_text(Plan((change,)))
    assert text == (
        "  ~ Microsoft.ApiManagement/service/apis/policies openai/policy\n"
        "      ~ policy:\n"
        f"{body}\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
    )
    changed = [line.strip() for line in text.splitlines() if line.strip()[:1] in "+-"]
    assert any("<value>1</value>" in line and line.startswith("-") for line in changed)
    assert any("<value>2</value>" in line and line.startswith("+") for line in changed)
    assert "\t" not in text and "\r" not in text  # canonical XML, not APIM's CRLF and tabs


def test_policy_that_differs_only_in_layout_says_so() -> None:
    same = POLICY_BEFORE.replace("<value>1</value>", "<value>2</value>")
    change = Change(
        "ensure_apis", Action.UPDATE, POLICY_TYPE, "p", "id", {"policy": (same, POLICY_AFTER)}
    )
    assert plan_text(Plan((change,))).splitlines()[1:3] == [
        "      ~ policy:",
        "          (layout only: same policy after canonicalisation)",
    ]


def test_policy_that_does_not_parse_still_shows_a_raw_diff() -> None:
    change = Change(
        "ensure_apis",
        Action.UPDATE,
        POLICY_TYPE,
        "openai/policy",
        "id",
        {"policy": ("<policies><inbound>\r\n<base />", "<policies />")},
    )
    assert plan_text(Plan((change,))).splitlines()[1:7] == [
        "      ~ policy:",
        "          --- deployed",
        "          +++ desired",
        "          @@ -1,2 +1 @@",
        "          -<policies><inbound>",
        "          -<base />",
    ]


def test_policy_create_shows_a_preview_and_the_length() -> None:
    change = Change(
        "ensure_apis",
        Action.CREATE,
        POLICY_TYPE,
        "openai/policy",
        f"{APIM_ID}/apis/openai/policies/policy",
        {"policy": (None, POLICY_AFTER)},
    )
    assert plan_text(Plan((change,))) == textwrap.dedent(
        """\
          + Microsoft.ApiManagement/service/apis/policies openai/policy
              + policy = (7 lines)
                  <policies>
                    <inbound>
                      <base />
                      <set-header name="x-a" exists-action="override"><value>2</value></set-header>
                    </inbound>
                    <backend><base /></backend>
                  ...

        Plan: 1 to add, 0 to change, 0 to destroy.
        """
    )


@pytest.mark.parametrize(
    ("action", "before", "after", "lines"),
    [
        (Action.DELETE, POLICY_AFTER, None, ["      - policy = (7 lines)"]),
        (
            Action.CREATE,
            None,
            "<policies />",
            ["      + policy = (1 line)", "          <policies />"],
        ),
    ],
)
def test_policy_delete_and_short_create(
    action: Action, before: str | None, after: str | None, lines: list[str]
) -> None:
    change = Change("ensure_apis", action, POLICY_TYPE, "p", "id", {"policy": (before, after)})
    assert plan_text(Plan((change,))).splitlines()[1:-2] == lines


def test_policy_not_known_yet_is_a_plain_field() -> None:
    change = Change(
        "ensure_apis", Action.CREATE, POLICY_TYPE, "openai", "id", {"policy": (None, UNKNOWN)}
    )
    assert "      + policy = (known after apply)\n" in plan_text(Plan((change,)))


def test_empty_plan() -> None:
    assert plan_text(Plan()) == "No changes. Azure matches the configuration.\n"


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        ((), "Plan: 0 to add, 0 to change, 0 to destroy."),
        ((CREATE, CREATE, UPDATE), "Plan: 2 to add, 1 to change, 0 to destroy."),
        ((CREATE, UPDATE, DELETE, DELETE), "Plan: 1 to add, 1 to change, 2 to destroy."),
    ],
)
def test_summary_counts(changes: tuple[Change, ...], summary: str) -> None:
    plan = Plan(changes)
    text = plan_text(plan)
    if changes:
        assert text.splitlines()[-1] == summary
    counts = plan.summary()
    assert plan_to_json(plan)["summary"] == counts
    assert f"Plan: {counts['create']} to add" in summary


def test_plan_json_is_the_contract() -> None:
    data = plan_to_json(Plan((CREATE, UPDATE, DELETE), warnings=("careful",)))
    assert json.loads(json.dumps(data)) == {
        "changes": [
            {
                "step": "ensure_apim",
                "action": "create",
                "type": APIM_TYPE,
                "name": "apim-x",
                "id": APIM_ID,
                "diff": {
                    "sku": {"before": None, "after": "Developer"},
                    "capacity": {"before": None, "after": 1},
                    "tags": {
                        "before": None,
                        "after": {"managed-by": "batchgw", "batchgw-environment": "dev"},
                    },
                    "identity.principalId": {"before": None, "after": "(known after apply)"},
                    "connectionString": {"before": None, "after": "(sensitive)"},
                },
            },
            {
                "step": "ensure_backends",
                "action": "update",
                "type": BACKEND_TYPE,
                "name": "foundry-eastus2",
                "id": f"{APIM_ID}/backends/foundry-eastus2",
                "diff": {
                    "url": {
                        "before": "https://old.openai.azure.com/openai/v1",
                        "after": "https://new.openai.azure.com/openai/v1",
                    },
                    "circuitBreaker": {
                        "before": None,
                        "after": "trip 3 x [429, 500-599] within PT10S",
                    },
                    "pool.services": {
                        "before": ["a weight=1"],
                        "after": ["a weight=1", "b weight=2"],
                    },
                },
            },
            {
                "step": "ensure_backends",
                "action": "delete",
                "type": BACKEND_TYPE,
                "name": "foundry-westus3",
                "id": f"{APIM_ID}/backends/foundry-westus3",
                "diff": {
                    "url": {"before": "https://west.openai.azure.com/openai/v1", "after": None}
                },
            },
        ],
        "summary": {"create": 1, "update": 1, "delete": 1},
        "warnings": ["careful"],
    }


def test_empty_plan_json() -> None:
    assert plan_to_json(Plan()) == {
        "changes": [],
        "summary": {"create": 0, "update": 0, "delete": 0},
        "warnings": [],
    }


CONNECTION = "redis-x.eastus2.redis.azure.net:10000,password=hunter2hunter2,ssl=True"


@pytest.mark.parametrize(
    "value",
    [
        SENSITIVE,
        CONNECTION,
        SecretStr("hunter2hunter2"),
        {"connectionString": CONNECTION},
        [CONNECTION],
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=hunter2hunter2",
    ],
    ids=["marker", "redis-string", "secretstr", "nested-dict", "nested-list", "storage-string"],
)
@pytest.mark.parametrize("action", list(Action))
def test_no_secret_reaches_the_output(value: object, action: Action) -> None:
    before, after = (SENSITIVE, value) if action is not Action.DELETE else (value, None)
    if action is Action.CREATE:
        before = None
    diff = {"connectionString": (before, after), "policy": (None, value)}
    plan = Plan((Change("link_cache", action, CACHE_TYPE, "default", "id", diff),))
    for output in (plan_text(plan), json.dumps(plan_to_json(plan))):
        assert "hunter2" not in output
        assert "password=" not in output
        assert "(sensitive)" in output


class Opaque:
    def __str__(self) -> str:
        return "opaque"


@pytest.mark.parametrize(
    ("value", "text", "as_json"),
    [
        (None, "null", None),
        (True, "true", True),
        (3, "3", 3),
        ("a\nb", '"a\\nb"', "a\nb"),
        (("x", 1), '["x", 1]', ["x", 1]),
        ({"b", "a"}, '["a", "b"]', ["a", "b"]),
        ({"k": "v w", "n": 2}, '{k="v w", n=2}', {"k": "v w", "n": 2}),
        ({"k": UNKNOWN}, "{k=(known after apply)}", {"k": "(known after apply)"}),
        (Action.CREATE, '"create"', "create"),
        (1.5, "1.5", 1.5),
        (Opaque(), "opaque", "opaque"),
    ],
)
def test_value_formats(value: object, text: str, as_json: object) -> None:
    assert format_value(value) == text
    assert to_json_value(value) == as_json


ENDPOINTS = Endpoints(
    apim_gateway_url="https://apim-batchgw-dev.azure-api.net",
    redis_hostname="redis-batchgw-dev.eastus.redis.azure.net",
)


def test_endpoints_json_is_to_dict() -> None:
    assert endpoints_to_json(ENDPOINTS) == ENDPOINTS.to_dict()
    assert endpoints_to_json(ENDPOINTS)["sticky_batch_api_url"] == (
        "https://apim-batchgw-dev.azure-api.net/openai-sticky"
    )


def test_endpoints_table_and_examples() -> None:
    console = recorder()
    render_endpoints(ENDPOINTS, console)
    text = console.export_text()
    for key, value in ENDPOINTS.to_dict().items():
        assert any(key in line and value in line for line in text.splitlines()), key
    assert (
        'curl -sS -i "https://apim-batchgw-dev.azure-api.net/openai-sticky/files" \\\n'
        '  -H "Ocp-Apim-Subscription-Key: $APIM_SUBSCRIPTION_KEY"\n'
    ) in text
    snippet = text[text.index("import os") :]
    assert 'base_url="https://apim-batchgw-dev.azure-api.net/openai-sticky",' in snippet
    assert '"Ocp-Apim-Subscription-Key": os.environ["APIM_SUBSCRIPTION_KEY"]' in snippet
    assert "client.files.create(" in snippet and "client.batches.create(" in snippet
    compile(snippet, "snippet.py", "exec")  # the snippet is valid Python as printed


def test_endpoints_table_marks_a_missing_redis_host() -> None:
    console = recorder()
    render_endpoints(Endpoints("https://apim-x.azure-api.net", ""), console)
    assert "(not found)" in console.export_text()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            BatchgwError("API Management `apim-x` is not deployed", "run `batchgw deploy` first"),
            {
                "code": "error",
                "message": "API Management `apim-x` is not deployed",
                "hint": "run `batchgw deploy` first",
            },
        ),
        (
            AzureCallError("creating `apim-x` failed: 403", "ask for Contributor", step="s"),
            {
                "code": "azure",
                "message": "creating `apim-x` failed: 403",
                "hint": "ask for Contributor",
            },
        ),
        (
            ConfigError("batchgw.toml is not valid", "fix it", details=("apim.sku: bad", "x: y")),
            {
                "code": "config",
                "message": "batchgw.toml is not valid",
                "hint": "fix it",
                "details": ["apim.sku: bad", "x: y"],
            },
        ),
    ],
)
def test_error_json(error: BatchgwError, expected: dict[str, object]) -> None:
    assert error_to_json(error) == {"error": expected}
