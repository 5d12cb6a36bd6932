"""Pure pieces: field diffs, region names, desired state."""

from __future__ import annotations

import pytest

from batchgw.config import Settings
from batchgw.errors import from_http_error
from batchgw.model import Foundry, build_desired, region_names
from batchgw.plan import SENSITIVE, UNKNOWN, Action, Change, Plan, diff_fields


@pytest.mark.parametrize(
    ("desired", "observed", "fold", "changed"),
    [
        ({"location": "eastus"}, {"location": "East US"}, ("location",), set()),
        ({"location": "eastus"}, {"location": "East US"}, (), {"location"}),
        ({"sku": "Developer"}, {"sku": "developer"}, ("sku",), set()),
        ({"url": "a"}, {"url": "b"}, (), {"url"}),
        ({"p": UNKNOWN}, {"p": "x"}, (), {"p"}),
        ({"c": SENSITIVE}, {"c": "x"}, (), {"c"}),
        ({"tags": {"a": "1"}}, {"tags": {"a": "1"}, "extra": 1}, (), set()),
    ],
)
def test_diff_fields(
    desired: dict[str, object],
    observed: dict[str, object],
    fold: tuple[str, ...],
    changed: set[str],
) -> None:
    assert set(diff_fields(desired, observed, fold_case=fold)) == changed


def test_plan_summary() -> None:
    plan = Plan(
        changes=(
            Change("s", Action.CREATE, "t", "a", "ia"),
            Change("s", Action.CREATE, "t", "b", "ib"),
            Change("s", Action.DELETE, "t", "c", "ic"),
        )
    )
    assert plan.summary() == {"create": 2, "update": 0, "delete": 1}
    assert plan.has_changes and not Plan().has_changes


def foundry(name: str, location: str | None) -> Foundry:
    return Foundry(
        name=name,
        resource_group="rg",
        subscription_id="s",
        id=f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/{name}",
        location=location if location else UNKNOWN,
        endpoint=f"https://{name}.openai.azure.com/",
        weight=1,
        priority=1,
    )


def test_region_names_use_the_account_name_where_locations_repeat() -> None:
    found = (foundry("a", "eastus2"), foundry("b", "eastus2"), foundry("c", "westus3"))
    assert list(region_names(found).values()) == ["a", "b", "westus3"]


def test_desired_gateway_needs_known_regions(settings: Settings) -> None:
    known = build_desired(
        settings, (foundry("batch-east", "eastus2"), foundry("batch-west", "westus3"))
    )
    assert known.gateway is not None and known.apis is not None
    assert [r.url for r in known.gateway.regions] == [
        "https://batch-east.openai.azure.com/openai/v1",
        "https://batch-west.openai.azure.com/openai/v1",
    ]
    unknown = build_desired(
        settings, (foundry("batch-east", None), foundry("batch-west", "westus3"))
    )
    assert unknown.gateway is None and unknown.apis is None


def test_signed_out_credential_error_is_one_clear_line() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    error = from_http_error(
        ClientAuthenticationError("DefaultAzureCredential failed"),
        step="s",
        resource_id="",
        action="x",
    )
    assert "not signed in" in error.message and "az login" in error.hint
