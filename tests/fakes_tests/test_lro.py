from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.redis import models as redis_models
from azure.mgmt.redisenterprise import models as re_models

from tests.fakes_tests.helpers import APIM_ID, RG, RG_ID, create_apim, create_rg, fake_env


def test_apim_create_is_an_lro_with_recorded_polling_waits() -> None:
    with fake_env(lro_polls=2, retry_after=0.05) as env:
        service = create_apim(env)
        assert service.provisioning_state == "Succeeded"
        assert service.gateway_url == "https://apim-test.azure-api.net"
        assert service.identity is not None and service.identity.principal_id
        # two InProgress polls, each followed by a wait of Retry-After seconds
        assert env.clients.transport.sleeps == [0.05, 0.05]
        statuses = [c for c in env.fake.calls if "/operationStatuses/" in c.path]
        assert len(statuses) == 3
        assert env.fake.spec_violations == []


def test_resource_is_creating_until_the_operation_finishes() -> None:
    with fake_env(lro_polls=5) as env:
        create_rg(env)
        cluster = re_models.Cluster(
            location="westus3",
            sku=re_models.Sku(name="Balanced_B0"),
            minimum_tls_version="1.2",
            public_network_access="Enabled",
        )
        ops = env.clients.redis_enterprise.redis_enterprise
        ops.begin_create(RG, "r1", cluster, polling=False).result()  # nobody polls
        seen = ops.get(RG, "r1")
        assert seen.provisioning_state == "Creating"
        result = ops.begin_create(RG, "r1", cluster).result()
        assert result.host_name == "r1.westus3.redis.azure.net"
        assert result.provisioning_state == "Succeeded"


def test_managed_redis_database_and_keys() -> None:
    with fake_env() as env:
        create_rg(env)
        ops = env.clients.redis_enterprise
        ops.redis_enterprise.begin_create(
            RG,
            "r1",
            re_models.Cluster(
                location="eastus",
                sku=re_models.Sku(name="Balanced_B0"),
                public_network_access="Enabled",
            ),
        ).result()
        database = re_models.Database(
            client_protocol="Encrypted",
            port=10000,
            clustering_policy="EnterpriseCluster",
            eviction_policy="NoEviction",
            access_keys_authentication="Enabled",
        )
        db = ops.databases.begin_create(RG, "r1", "default", database).result()
        assert db.port == 10000
        keys = ops.databases.list_keys(RG, "r1", "default")
        again = ops.databases.list_keys(RG, "r1", "default")
        assert keys.primary_key and keys.primary_key == again.primary_key
        assert keys.primary_key != keys.secondary_key
        assert all("listKeys" not in c.path for c in env.fake.writes())


def test_classic_redis_create_and_keys() -> None:
    with fake_env() as env:
        create_rg(env)
        params = redis_models.RedisCreateParameters(
            location="eastus",
            sku=redis_models.Sku(name="Basic", family="C", capacity=0),
            minimum_tls_version="1.2",
        )
        cache = env.clients.redis.redis.begin_create(RG, "classic1", params).result()
        assert cache.host_name == "classic1.redis.cache.windows.net"
        assert cache.ssl_port == 6380
        assert env.clients.redis.redis.list_keys(RG, "classic1").primary_key
        assert env.fake.spec_violations == []


def test_failed_lro_surfaces_the_arm_error() -> None:
    with fake_env() as env:
        create_rg(env)
        env.fake.fail_lro_next("/service/", code="ActivationFailed", message="boom")
        with pytest.raises(HttpResponseError) as info:
            create_apim(env)
        assert info.value.error is not None and info.value.error.code == "ActivationFailed"
        failed = env.fake.get_resource(APIM_ID)
        assert failed is not None and failed["properties"]["provisioningState"] == "Failed"  # type: ignore[index]


def test_resource_group_delete_removes_everything_under_it() -> None:
    with fake_env() as env:
        create_apim(env)
        env.clients.resources.resource_groups.begin_delete(RG).result()
        assert not any(rid.startswith(RG_ID.lower()) for rid in env.fake.resource_ids())
        with pytest.raises(HttpResponseError) as info:
            env.clients.resources.resource_groups.get(RG)
        assert info.value.error is not None and info.value.error.code == "ResourceGroupNotFound"


def test_put_into_a_missing_group_is_refused() -> None:
    with fake_env() as env, pytest.raises(HttpResponseError) as info:
        create_apim_without_rg(env)
    assert info.value.status_code == 404
    assert info.value.error is not None and info.value.error.code == "ResourceGroupNotFound"


def create_apim_without_rg(env: object) -> None:
    from azure.mgmt.apimanagement import models as m

    from tests.fakes_tests.helpers import APIM, Env

    assert isinstance(env, Env)
    service = m.ApiManagementServiceResource(
        location="eastus",
        sku=m.ApiManagementServiceSkuProperties(name="Developer", capacity=1),
        publisher_email="admin@example.com",
        publisher_name="Example",
    )
    env.clients.apim.api_management_service.begin_create_or_update(RG, APIM, service).result()


def test_wall_clock_lro_mode() -> None:
    with fake_env(lro_polls=0, lro_seconds=0.0) as env:
        env.fake.set_lro_seconds("microsoft.apimanagement/service", 0.05)
        create_rg(env)
        import time

        start = time.monotonic()
        create_apim_real_wait(env)
        assert time.monotonic() - start >= 0.05


def create_apim_real_wait(env: object) -> None:
    from tests.fakes_tests.helpers import Env

    assert isinstance(env, Env)
    # The NoSleepTransport does not wait, so the client polls until the deadline passes.
    service = create_apim(env)
    assert service.provisioning_state == "Succeeded"
