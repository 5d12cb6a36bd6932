"""Names, ids and deterministic GUIDs."""

from __future__ import annotations

import pytest

from batchgw import naming

SUB = "00000000-0000-0000-0000-000000000000"


def test_names_are_stable_and_valid_dns_labels() -> None:
    first = naming.apim_name("dev", SUB, "rg-apim-dev")
    assert first == naming.apim_name("dev", SUB.upper(), "RG-APIM-DEV")
    assert first != naming.apim_name("dev", SUB, "other-rg")
    assert len(first) <= 50 and first[0].isalpha() and first.replace("-", "").isalnum()
    assert naming.redis_name("dev", SUB, "rg").startswith("redis-batchgw-dev-")


def test_role_assignment_name_is_deterministic() -> None:
    scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
    one = naming.role_assignment_name(scope, "P1", "ROLE")
    assert one == naming.role_assignment_name(scope.lower(), "p1", "role")
    assert one != naming.role_assignment_name(scope, "p2", "role")


@pytest.mark.parametrize(
    ("role", "guid"),
    [
        ("Cognitive Services OpenAI User", "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
        ("cognitive services openai contributor", "a001fd3d-188f-4b5d-821b-7da978bf7442"),
        ("A001FD3D-188F-4B5D-821B-7DA978BF7442", "a001fd3d-188f-4b5d-821b-7da978bf7442"),
        ("Some Custom Role", None),
    ],
)
def test_known_roles(role: str, guid: str | None) -> None:
    assert naming.known_role_guid(role) == guid


@pytest.mark.parametrize(
    ("tags", "owned"),
    [
        ({"managed-by": "batchgw", "batchgw-environment": "dev"}, True),
        ({"Managed-By": "batchgw", "batchgw-environment": "DEV"}, True),
        ({"managed-by": "batchgw", "batchgw-environment": "prod"}, False),
        ({"managed-by": "terraform"}, False),
        (None, False),
    ],
)
def test_ownership(tags: dict[str, str] | None, owned: bool) -> None:
    assert naming.is_owned(tags, "dev") is owned


def test_backend_ids_never_collide_with_the_pool() -> None:
    assert naming.foundry_backend_id("pool") != naming.POOL_BACKEND_ID
    assert naming.foundry_backend_id("Batch_East.1") == "foundry-batch-east-1"
