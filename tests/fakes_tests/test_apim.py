from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import models as m

from tests.fakes_tests.helpers import APIM, APIM_ID, RG, create_apim, fake_env

POLICY = (
    "<policies><inbound><base />"
    '<set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault("x", ""))" />'
    "</inbound><backend><base /></backend><outbound /></policies>"
)


def test_soft_delete_blocks_the_name_until_purged() -> None:
    with fake_env() as env:
        create_apim(env)
        env.clients.apim.backend.create_or_update(
            RG, APIM, "b1", m.BackendContract(url="https://x.example/openai/v1", protocol="http")
        )
        env.clients.apim.api_management_service.begin_delete(RG, APIM).result()
        assert not any(r.startswith(APIM_ID.lower()) for r in env.fake.resource_ids())
        deleted = env.clients.apim.deleted_services.get_by_name(APIM, "eastus")
        assert deleted.service_id == APIM_ID
        with pytest.raises(HttpResponseError) as info:
            create_apim(env)
        assert info.value.status_code == 409
        assert info.value.error is not None
        assert info.value.error.code == "ServiceAlreadyExistsInSoftDeletedState"
        env.clients.apim.deleted_services.begin_purge(APIM, "eastus").result()
        assert create_apim(env).provisioning_state == "Succeeded"
        assert env.fake.spec_violations == []


def test_policy_is_reformatted_like_apim() -> None:
    with fake_env() as env:
        create_apim(env)
        env.clients.apim.api.begin_create_or_update(
            RG,
            APIM,
            "a1",
            m.ApiCreateOrUpdateParameter(display_name="A", path="a", protocols=["https"]),
        ).result()
        env.clients.apim.api_policy.create_or_update(
            RG, APIM, "a1", "policy", m.PolicyContract(value=POLICY, format="rawxml")
        )
        xml = env.clients.apim.api_policy.get(RG, APIM, "a1", "policy").value
        raw = env.clients.apim.api_policy.get(RG, APIM, "a1", "policy", format="rawxml").value
        assert xml is not None and raw is not None
        assert xml.startswith("<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n")
        assert "GetValueOrDefault(&quot;x&quot;, &quot;&quot;)" in xml
        assert 'value="@(context.Request.Headers.GetValueOrDefault("x", ""))"' in raw
        assert "\t<outbound />\r\n</policies>" in xml


def test_policy_with_unescaped_quotes_needs_rawxml() -> None:
    with fake_env() as env:
        create_apim(env)
        env.clients.apim.api.begin_create_or_update(
            RG,
            APIM,
            "a1",
            m.ApiCreateOrUpdateParameter(display_name="A", path="a", protocols=["https"]),
        ).result()
        with pytest.raises(HttpResponseError) as info:
            env.clients.apim.api_policy.create_or_update(
                RG, APIM, "a1", "policy", m.PolicyContract(value=POLICY, format="xml")
            )
        assert info.value.error is not None and info.value.error.code == "ValidationError"


def test_cache_connection_string_is_masked() -> None:
    secret_cs = "r1.eastus.redis.azure.net:10000,password=not-shown,ssl=True,abortConnect=False"
    with fake_env() as env:
        create_apim(env)
        cache = m.CacheContract(
            connection_string=secret_cs,
            use_from_location="default",
            resource_id="https://management.azure.com/subscriptions/s/resourceGroups/rg/x",
            description="redis",
        )
        put = env.clients.apim.cache.create_or_update(RG, APIM, "default", cache)
        got = env.clients.apim.cache.get(RG, APIM, "default")
        assert got.connection_string == put.connection_string
        assert got.connection_string is not None
        assert got.connection_string.startswith("{{") and got.connection_string.endswith("}}")
        assert len(got.connection_string) == 28
        assert env.fake.get_secret(f"{APIM_ID}/caches/default") == secret_cs


def test_collections_page_with_next_link() -> None:
    with fake_env(page_size=2) as env:
        create_apim(env)
        for index in range(5):
            env.clients.apim.backend.create_or_update(
                RG,
                APIM,
                f"b{index}",
                m.BackendContract(url=f"https://b{index}.example", protocol="http"),
            )
        names = [b.name for b in env.clients.apim.backend.list_by_service(RG, APIM)]
        assert names == ["b0", "b1", "b2", "b3", "b4"]
        pages = [c for c in env.fake.calls if c.method == "GET" and c.path.endswith("/backends")]
        assert len(pages) == 3


def test_child_writes_conflict_while_the_service_is_busy() -> None:
    with fake_env() as env:
        create_apim(env)
        env.fake.set_apim_state(APIM_ID, "Updating", calls=2)
        backend = m.BackendContract(url="https://x.example", protocol="http")
        for _ in range(2):
            with pytest.raises(HttpResponseError) as info:
                env.clients.apim.backend.create_or_update(RG, APIM, "b1", backend)
            assert info.value.status_code == 409
            assert info.value.error is not None
            assert info.value.error.code == "PessimisticConcurrencyConflict"
        assert env.clients.apim.backend.create_or_update(RG, APIM, "b1", backend).url


def test_invalid_backend_protocol_is_a_spec_violation() -> None:
    with fake_env() as env:
        create_apim(env)
        with pytest.raises(HttpResponseError) as info:
            env.clients.apim.backend.create_or_update(
                RG, APIM, "b1", m.BackendContract(url="https://x.example", protocol="ftp")
            )
        assert info.value.status_code == 400
        assert info.value.error is not None and info.value.error.code == "InvalidRequestContent"
        assert len(env.fake.spec_violations) == 1
        assert "protocol" in env.fake.spec_violations[0]


def test_missing_child_is_404() -> None:
    with fake_env() as env:
        create_apim(env)
        with pytest.raises(HttpResponseError) as info:
            env.clients.apim.backend.get(RG, APIM, "nope")
        assert info.value.status_code == 404
