"""Every resource name, ARM id and deterministic GUID batchgw uses. Pure."""

from __future__ import annotations

import hashlib
import re
import uuid

MANAGED_BY_TAG = "managed-by"
MANAGED_BY_VALUE = "batchgw"
ENVIRONMENT_TAG = "batchgw-environment"
POOL_BACKEND_ID = "pool-foundries"
CACHE_ID = "batchgw-redis"
REDIS_DATABASE = "default"
ROLE_NAMESPACE = uuid.UUID("8d1f6a52-4b1e-4d3a-9a57-5b0c2f1e7a10")

KNOWN_ROLES = {
    "cognitive services openai user": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "cognitive services openai contributor": "a001fd3d-188f-4b5d-821b-7da978bf7442",
    "cognitive services user": "a97b65f3-24c7-4388-baec-2e87135dc908",
}
GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")


def tags(environment: str) -> dict[str, str]:
    return {MANAGED_BY_TAG: MANAGED_BY_VALUE, ENVIRONMENT_TAG: environment}


def is_owned(resource_tags: dict[str, str] | None, environment: str) -> bool:
    found = {key.lower(): value for key, value in (resource_tags or {}).items()}
    return (
        found.get(MANAGED_BY_TAG) == MANAGED_BY_VALUE
        and found.get(ENVIRONMENT_TAG, "").lower() == environment.lower()
    )


def suffix(subscription_id: str, resource_group: str) -> str:
    # APIM and Redis names are global DNS labels: a stable suffix keeps them unique per
    # subscription and group while letting every run find the same resource again.
    seed = f"{subscription_id}/{resource_group}".lower().encode()
    return hashlib.sha256(seed).hexdigest()[:6]


def apim_name(environment: str, subscription_id: str, resource_group: str) -> str:
    return f"apim-batchgw-{environment}-{suffix(subscription_id, resource_group)}"


def redis_name(environment: str, subscription_id: str, resource_group: str) -> str:
    return f"redis-batchgw-{environment}-{suffix(subscription_id, resource_group)}"


def foundry_backend_id(account: str) -> str:
    return f"foundry-{region_label(account)}"


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def provider_id(
    subscription_id: str, resource_group: str, provider: str, resource_type: str, name: str
) -> str:
    base = resource_group_id(subscription_id, resource_group)
    return f"{base}/providers/{provider}/{resource_type}/{name}"


def apim_id(subscription_id: str, resource_group: str, name: str) -> str:
    return provider_id(subscription_id, resource_group, "Microsoft.ApiManagement", "service", name)


def redis_id(subscription_id: str, resource_group: str, name: str, kind: str) -> str:
    resource_type = "redisEnterprise" if kind == "managed" else "redis"
    return provider_id(subscription_id, resource_group, "Microsoft.Cache", resource_type, name)


def foundry_id(subscription_id: str, resource_group: str, name: str) -> str:
    return provider_id(
        subscription_id, resource_group, "Microsoft.CognitiveServices", "accounts", name
    )


def deleted_apim_id(subscription_id: str, location: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.ApiManagement"
        f"/locations/{location}/deletedservices/{name}"
    )


def role_definition_id(subscription_id: str, role_guid: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization"
        f"/roleDefinitions/{role_guid}"
    )


def role_assignment_name(scope: str, principal_id: str, role_guid: str) -> str:
    # Deterministic, so a re-run finds the assignment with one GET instead of creating a twin.
    seed = f"{scope.lower()}|{principal_id.lower()}|{role_guid.lower()}"
    return str(uuid.uuid5(ROLE_NAMESPACE, seed))


def role_assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"


def known_role_guid(role: str) -> str | None:
    """A GUID given directly, or a built-in role we know by name; None means look it up."""
    lowered = role.strip().lower()
    if GUID.match(lowered):
        return lowered
    return KNOWN_ROLES.get(lowered)


def region_label(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower()).strip("-")
