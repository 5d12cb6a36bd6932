"""Where clients reach the gateway: read from Azure (APIM gateway URL, Redis host)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchgw.errors import BatchgwError
from batchgw.model import build_desired, offline_foundries
from batchgw.steps.base import get_or_none, guarded

if TYPE_CHECKING:
    from batchgw.azure import AzureClients
    from batchgw.config import Settings

BATCH_PATH = "openai"
STICKY_PATH = "openai-sticky"
REALTIME_PATH = "openai-realtime"


@dataclass(frozen=True, slots=True)
class Endpoints:
    apim_gateway_url: str
    redis_hostname: str
    batch_api_path: str = BATCH_PATH
    sticky_batch_api_path: str = STICKY_PATH
    realtime_chat_api_path: str = REALTIME_PATH

    @property
    def urls(self) -> dict[str, str]:
        base = self.apim_gateway_url.rstrip("/")
        return {
            "batch_api_url": f"{base}/{self.batch_api_path}",
            "sticky_batch_api_url": f"{base}/{self.sticky_batch_api_path}",
            "realtime_chat_api_url": f"{base}/{self.realtime_chat_api_path}",
        }

    def to_dict(self) -> dict[str, str]:
        return {
            "apim_gateway_url": self.apim_gateway_url,
            "batch_api_path": self.batch_api_path,
            "sticky_batch_api_path": self.sticky_batch_api_path,
            "realtime_chat_api_path": self.realtime_chat_api_path,
            "redis_hostname": self.redis_hostname,
            **self.urls,
        }


def read_endpoints(settings: Settings, clients: AzureClients) -> Endpoints:
    desired = build_desired(settings, offline_foundries(settings))
    rg = desired.resource_group.name
    apim = desired.apim
    service = guarded(
        "show_endpoints",
        apim.id,
        "reading",
        lambda: get_or_none(lambda: clients.apim.api_management_service.get(rg, apim.name)),
    )
    if service is None or not service.gateway_url:
        raise BatchgwError(
            f"API Management `{apim.name}` is not deployed in `{rg}`",
            "run `batchgw deploy` first",
        )
    redis = desired.redis
    if redis.kind == "managed":
        cluster = guarded(
            "show_endpoints",
            redis.id,
            "reading",
            lambda: get_or_none(
                lambda: clients.redis_enterprise.redis_enterprise.get(rg, redis.name)
            ),
        )
    else:
        cluster = guarded(
            "show_endpoints",
            redis.id,
            "reading",
            lambda: get_or_none(lambda: clients.redis.redis.get(rg, redis.name)),
        )
    host = str(getattr(cluster, "host_name", "") or "") if cluster is not None else ""
    return Endpoints(apim_gateway_url=str(service.gateway_url), redis_hostname=host)


def from_known(known: Mapping[str, object]) -> Endpoints | None:
    """The endpoints from what a plan or deploy observed (the steps' outputs), if complete."""
    url, host = known.get("gateway_url"), known.get("redis_host")
    if isinstance(url, str) and url and isinstance(host, str) and host:
        return Endpoints(apim_gateway_url=url, redis_hostname=host)
    return None
