"""Resource types the fake knows, and the fields the server fills in on PUT.

Shapes follow the x-ms-examples in shared/arm-specs (RedisEnterpriseCreate.json,
RedisEnterpriseDatabasesCreate.json, RedisCacheGet.json, ApiManagementServiceGetService.json,
ApiManagementGetBackend.json, RoleAssignments_Get.json, ...).
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from tests.fakes.ids import RESOURCE_GROUPS, ArmPath

JsonDict = dict[str, object]
Fill = Callable[[ArmPath, JsonDict, JsonDict | None], JsonDict]


@dataclass(frozen=True, slots=True)
class Kind:
    type: str  # canonical ARM type
    put: Literal["sync", "lro", "read-only"]
    delete: Literal["200", "204", "lro", "read-only"]
    fill: Fill
    namespace: str  # provider used in operation-status URLs


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_etag() -> str:
    return f'"{secrets.token_hex(8)}"'


def random_key() -> str:
    return secrets.token_urlsafe(32)


def props_of(resource: JsonDict) -> JsonDict:
    props = resource.get("properties")
    if not isinstance(props, dict):
        props = {}
        resource["properties"] = props
    return props


def _region(resource: JsonDict) -> str:
    return str(resource.get("location", "")).replace(" ", "").lower()


def _base(arm: ArmPath, body: JsonDict, type_: str) -> JsonDict:
    result = copy.deepcopy(body)
    result["id"] = arm.path
    result["name"] = arm.name
    result["type"] = type_
    return result


def _system_data(existing: JsonDict | None) -> JsonDict:
    created = existing.get("systemData") if existing else None
    stamp = now_iso()
    data: JsonDict = {
        "createdBy": "fake@example.com",
        "createdByType": "User",
        "createdAt": stamp,
        "lastModifiedBy": "fake@example.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": stamp,
    }
    if isinstance(created, dict):
        data.update({k: v for k, v in created.items() if k.startswith("created")})
    return data


def fill_resource_group(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.Resources/resourceGroups")
    result["properties"] = {"provisioningState": "Succeeded"}
    return result


def fill_redis_enterprise(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.Cache/redisEnterprise")
    result.setdefault("kind", "v2")
    props = props_of(result)
    props.setdefault("minimumTlsVersion", "1.2")
    props.setdefault("highAvailability", "Enabled")
    props.setdefault("publicNetworkAccess", "Enabled")
    props["hostName"] = f"{arm.name.lower()}.{_region(result)}.redis.azure.net"
    props["redisVersion"] = "7.4"
    props["resourceState"] = "Running"
    result["systemData"] = _system_data(existing)
    return result


def fill_redis_enterprise_database(
    arm: ArmPath, body: JsonDict, existing: JsonDict | None
) -> JsonDict:
    result = _base(arm, body, "Microsoft.Cache/redisEnterprise/databases")
    props = props_of(result)
    # Defaults of the 2025-07-01 API (Database properties in redisenterprise.json).
    props.setdefault("clientProtocol", "Encrypted")
    props.setdefault("port", 10000)
    props.setdefault("clusteringPolicy", "OSSCluster")
    props.setdefault("evictionPolicy", "VolatileLRU")
    props.setdefault("accessKeysAuthentication", "Disabled")
    props.setdefault("modules", [])
    props["redisVersion"] = "7.4"
    props["resourceState"] = "Running"
    props["deferUpgrade"] = "NotDeferred"
    result["systemData"] = _system_data(existing)
    return result


def fill_redis(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.Cache/Redis")
    props = props_of(result)
    props.setdefault("enableNonSslPort", False)
    props.setdefault("minimumTlsVersion", "1.2")
    props.setdefault("publicNetworkAccess", "Enabled")
    props.setdefault("redisConfiguration", {})
    props.setdefault("redisVersion", "6.0")
    props["hostName"] = f"{arm.name.lower()}.redis.cache.windows.net"
    props["port"] = 6379
    props["sslPort"] = 6380
    props["linkedServers"] = []
    props["instances"] = [{"sslPort": 15000, "nonSslPort": 13000, "isMaster": True}]
    result.setdefault("tags", {})
    return result


def fill_apim_service(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.ApiManagement/service")
    props = props_of(result)
    host = arm.name.lower()
    old_props = existing.get("properties") if existing else None
    created = old_props.get("createdAtUtc") if isinstance(old_props, dict) else None
    props.update(
        {
            "targetProvisioningState": "",
            "createdAtUtc": created or now_iso(),
            "gatewayUrl": f"https://{host}.azure-api.net",
            "gatewayRegionalUrl": f"https://{host}-{_region(result)}-01.regional.azure-api.net",
            "developerPortalUrl": f"https://{host}.developer.azure-api.net",
            "managementApiUrl": f"https://{host}.management.azure-api.net",
            "hostnameConfigurations": [
                {
                    "type": "Proxy",
                    "hostName": f"{host}.azure-api.net",
                    "negotiateClientCertificate": False,
                    "defaultSslBinding": False,
                    "certificateSource": "BuiltIn",
                }
            ],
            "publicIPAddresses": ["203.0.113.10"],
            "virtualNetworkType": props.get("virtualNetworkType", "None"),
            "platformVersion": "stv2",
            "publicNetworkAccess": props.get("publicNetworkAccess", "Enabled"),
            "natGatewayState": "Disabled",
            "disableGateway": False,
        }
    )
    props.setdefault("notificationSenderEmail", "apimgmt-noreply@mail.windowsazure.com")
    identity = result.get("identity")
    old_identity = existing.get("identity") if existing else None
    if isinstance(identity, dict) and isinstance(old_identity, dict):
        for field in ("principalId", "tenantId"):
            if field in old_identity:
                identity[field] = old_identity[field]
    result["etag"] = new_etag()
    result["systemData"] = _system_data(existing)
    return result


def fill_apim_child(type_: str) -> Fill:
    def fill(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
        return _base(arm, body, type_)

    return fill


# Input-only fields of ApiCreateOrUpdateProperties (import payloads), never returned by GET.
_API_INPUT_ONLY = ("format", "value", "wsdlSelector", "apiType", "translateRequiredQueryParameters")


def fill_api(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.ApiManagement/service/apis")
    props = props_of(result)
    for field in _API_INPUT_ONLY:
        props.pop(field, None)
    props.setdefault("apiRevision", "1")
    props.setdefault("isCurrent", True)
    props.setdefault("subscriptionRequired", True)
    props.setdefault("type", "http")
    return result


def fill_role_assignment(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    result = _base(arm, body, "Microsoft.Authorization/roleAssignments")
    props = props_of(result)
    stamp = now_iso()
    old = existing.get("properties") if existing else None
    props["scope"] = arm.path[: arm.path.lower().rindex("/providers/microsoft.authorization")]
    props.setdefault("principalType", "User")
    props["createdOn"] = old.get("createdOn", stamp) if isinstance(old, dict) else stamp
    props["updatedOn"] = stamp
    props["createdBy"] = props["updatedBy"] = str(uuid.UUID(int=1))
    return result


def fill_read_only(arm: ArmPath, body: JsonDict, existing: JsonDict | None) -> JsonDict:
    raise AssertionError("read-only kinds are never filled")  # pragma: no cover


_APIM = "Microsoft.ApiManagement"
KINDS: dict[str, Kind] = {
    RESOURCE_GROUPS: Kind(
        "Microsoft.Resources/resourceGroups",
        "sync",
        "lro",
        fill_resource_group,
        "Microsoft.Resources",
    ),
    "microsoft.cache/redisenterprise": Kind(
        "Microsoft.Cache/redisEnterprise", "lro", "lro", fill_redis_enterprise, "Microsoft.Cache"
    ),
    "microsoft.cache/redisenterprise/databases": Kind(
        "Microsoft.Cache/redisEnterprise/databases",
        "lro",
        "lro",
        fill_redis_enterprise_database,
        "Microsoft.Cache",
    ),
    "microsoft.cache/redis": Kind(
        "Microsoft.Cache/Redis", "lro", "lro", fill_redis, "Microsoft.Cache"
    ),
    "microsoft.apimanagement/service": Kind(
        "Microsoft.ApiManagement/service", "lro", "lro", fill_apim_service, _APIM
    ),
    "microsoft.apimanagement/service/backends": Kind(
        "Microsoft.ApiManagement/service/backends",
        "sync",
        "200",
        fill_apim_child("Microsoft.ApiManagement/service/backends"),
        _APIM,
    ),
    "microsoft.apimanagement/service/caches": Kind(
        "Microsoft.ApiManagement/service/caches",
        "sync",
        "200",
        fill_apim_child("Microsoft.ApiManagement/service/caches"),
        _APIM,
    ),
    # Api_Delete answers 202/204 only (azure-mgmt-apimanagement ApiOperations._delete_initial).
    "microsoft.apimanagement/service/apis": Kind(
        "Microsoft.ApiManagement/service/apis", "sync", "204", fill_api, _APIM
    ),
    "microsoft.apimanagement/service/apis/operations": Kind(
        "Microsoft.ApiManagement/service/apis/operations",
        "sync",
        "200",
        fill_apim_child("Microsoft.ApiManagement/service/apis/operations"),
        _APIM,
    ),
    "microsoft.apimanagement/service/apis/policies": Kind(
        "Microsoft.ApiManagement/service/apis/policies",
        "sync",
        "200",
        fill_apim_child("Microsoft.ApiManagement/service/apis/policies"),
        _APIM,
    ),
    "microsoft.apimanagement/service/apis/operations/policies": Kind(
        "Microsoft.ApiManagement/service/apis/operations/policies",
        "sync",
        "200",
        fill_apim_child("Microsoft.ApiManagement/service/apis/operations/policies"),
        _APIM,
    ),
    "microsoft.apimanagement/locations/deletedservices": Kind(
        "Microsoft.ApiManagement/deletedservices", "read-only", "lro", fill_read_only, _APIM
    ),
    "microsoft.authorization/roleassignments": Kind(
        "Microsoft.Authorization/roleAssignments",
        "sync",
        "200",
        fill_role_assignment,
        "Microsoft.Authorization",
    ),
    "microsoft.authorization/roledefinitions": Kind(
        "Microsoft.Authorization/roleDefinitions",
        "read-only",
        "read-only",
        fill_read_only,
        "Microsoft.Authorization",
    ),
    "microsoft.cognitiveservices/accounts": Kind(
        "Microsoft.CognitiveServices/accounts",
        "read-only",
        "read-only",
        fill_read_only,
        "Microsoft.CognitiveServices",
    ),
    "microsoft.cognitiveservices/accounts/deployments": Kind(
        "Microsoft.CognitiveServices/accounts/deployments",
        "read-only",
        "read-only",
        fill_read_only,
        "Microsoft.CognitiveServices",
    ),
}

APIM_SERVICE = "microsoft.apimanagement/service"
POLICY_KINDS = frozenset(
    {
        "microsoft.apimanagement/service/apis/policies",
        "microsoft.apimanagement/service/apis/operations/policies",
    }
)
