"""The one place that builds credentials and SDK clients. The SDKs are imported lazily."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential
    from azure.core.pipeline.transport import HttpTransport
    from azure.mgmt.apimanagement import ApiManagementClient
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.redisenterprise import RedisEnterpriseManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from batchgw.config import Settings

# Most of the wait in a deploy is Azure's; polling more often than this only adds requests.
POLLING_INTERVAL = 10
POOL_SIZE = 64


class StaticTokenCredential:
    """A bearer token given in BATCHGW_ARM_TOKEN (CI, emulators, tokens minted elsewhere)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:
        return "StaticTokenCredential(<redacted>)"


@dataclass(frozen=True)
class AzureClients:
    subscription_id: str
    resource: ResourceManagementClient
    apim: ApiManagementClient
    redis_enterprise: RedisEnterpriseManagementClient
    redis: RedisManagementClient
    authorization: AuthorizationManagementClient
    _factory: _CognitiveFactory = field(repr=False)

    def cognitive(self, subscription_id: str) -> CognitiveServicesManagementClient:
        """Foundries may live in other subscriptions; one client per subscription."""
        return self._factory.get(subscription_id)


class _CognitiveFactory:
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        self._clients: dict[str, CognitiveServicesManagementClient] = {}
        self._lock = threading.Lock()

    def get(self, subscription_id: str) -> CognitiveServicesManagementClient:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        with self._lock:
            key = subscription_id.lower()
            if key not in self._clients:
                self._clients[key] = CognitiveServicesManagementClient(
                    subscription_id=subscription_id, **self._options
                )
            return self._clients[key]


def resolve_credential() -> TokenCredential:
    token = os.environ.get("BATCHGW_ARM_TOKEN")
    if token:
        return StaticTokenCredential(token)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def default_transport() -> HttpTransport[Any, Any]:
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    # Plans fan out one read per resource at once; a larger pool keeps them from queueing.
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    transport: HttpTransport[Any, Any] = RequestsTransport(session=session, session_owner=True)
    return transport


def make_clients(
    settings: Settings,
    *,
    credential: TokenCredential | None = None,
    transport: HttpTransport[Any, Any] | None = None,
    polling_interval: float = POLLING_INTERVAL,
) -> AzureClients:
    from azure.mgmt.apimanagement import ApiManagementClient
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.redisenterprise import RedisEnterpriseManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    endpoint = settings.arm_endpoint
    options: dict[str, Any] = {
        "credential": credential or resolve_credential(),
        "base_url": endpoint,
        "credential_scopes": [f"{endpoint}/.default"],
        "transport": transport or default_transport(),
        "polling_interval": polling_interval,
        "user_agent": "batchgw",
    }
    sub = settings.subscription_id
    return AzureClients(
        subscription_id=sub,
        resource=ResourceManagementClient(subscription_id=sub, **options),
        apim=ApiManagementClient(subscription_id=sub, **options),
        redis_enterprise=RedisEnterpriseManagementClient(subscription_id=sub, **options),
        redis=RedisManagementClient(subscription_id=sub, **options),
        authorization=AuthorizationManagementClient(subscription_id=sub, **options),
        _factory=_CognitiveFactory(options),
    )
