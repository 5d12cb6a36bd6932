"""The engine end to end, in process: plan -> apply -> plan again, drift, failures, teardown."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchgw import endpoints, engine, naming, teardown
from batchgw.azure import AzureClients
from batchgw.config import Settings, load_settings
from batchgw.errors import (
    AzureCallError,
    BatchgwError,
    BlockedChangeError,
    ConfigError,
    UnsafePlanError,
)
from batchgw.plan import Action, Plan, Unknown
from tests.conftest import CONFIG, FOUNDRY_RG, SUB, Sleeps
from tests.fakes.arm import FakeArm


def deploy(settings: Settings, clients: AzureClients, sleeps: Sleeps) -> Plan:
    snapshot = engine.read_state(settings, clients)
    engine.apply_plan(settings, clients, snapshot, sleep=sleeps)
    return snapshot.plan


def set_property(arm: FakeArm, arm_id: str, key: str, value: object) -> None:
    def change(resource: dict[str, object]) -> None:
        props = resource["properties"]
        assert isinstance(props, dict)
        props[key] = value

    arm.mutate(arm_id, change)


def summary(plan: Plan) -> dict[str, int]:
    return plan.summary()


def names(plan: Plan, action: Action) -> set[tuple[str, str]]:
    return {(c.type, c.name) for c in plan.changes if c.action is action}


def apim_id(settings: Settings) -> str:
    name = naming.apim_name(settings.environment, SUB, settings.resource_group)
    return naming.apim_id(SUB, settings.resource_group, name)


def test_fresh_plan_creates_everything_and_writes_nothing(
    settings: Settings, clients: AzureClients, arm: FakeArm
) -> None:
    plan = engine.read_state(settings, clients).plan

    created = names(plan, Action.CREATE)
    assert ("Microsoft.Resources/resourceGroups", "rg-apim-dev") in created
    assert (
        "Microsoft.Cache/redisEnterprise",
        naming.redis_name("dev", SUB, "rg-apim-dev"),
    ) in created
    assert ("Microsoft.ApiManagement/service/backends", "foundry-batch-east") in created
    assert ("Microsoft.ApiManagement/service/backends", naming.POOL_BACKEND_ID) in created
    assert {n for t, n in created if t == "Microsoft.ApiManagement/service/apis"} == {
        "openai",
        "openai-sticky",
        "openai-realtime",
    }
    assert {n for t, n in created if t == "Microsoft.Authorization/roleAssignments"} == {
        "batch-east",
        "batch-west",
    }
    assert summary(plan)["update"] == 0 and summary(plan)["delete"] == 0
    assert arm.writes() == []
    apim_change = next(c for c in plan.changes if c.type == "Microsoft.ApiManagement/service")
    assert isinstance(apim_change.diff["identity.principalId"][1], Unknown)


def test_deploy_then_plan_is_empty_and_redeploy_sends_no_write(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    writes = len(arm.writes())

    again = engine.read_state(settings, clients)

    assert again.plan.changes == (), [
        (c.action, c.type, c.name, c.diff) for c in again.plan.changes
    ]
    engine.apply_plan(settings, clients, again, sleep=sleeps)
    assert len(arm.writes()) == writes
    # The deployed backend points at the foundry's OpenAI endpoint, with a circuit breaker.
    backend = arm.get_resource(f"{apim_id(settings)}/backends/foundry-batch-east")
    assert backend is not None
    props = backend["properties"]
    assert isinstance(props, dict)
    assert props["url"] == "https://batch-east.openai.azure.com/openai/v1"
    assert props["circuitBreaker"]["rules"][0]["acceptRetryAfter"] is True
    # Foundry accounts are never written.
    touched = [c.path.lower() for c in arm.writes()]
    assert not [
        p
        for p in touched
        if p.rstrip("/").split("/providers/")[-1].startswith("microsoft.cognitiveservices")
    ]


def test_every_resource_that_takes_tags_is_tagged(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    for call in arm.writes():
        if call.method != "PUT" or not isinstance(call.body, dict):
            continue
        path = call.path.lower()
        if path.endswith(("/resourcegroups/rg-apim-dev",)) or (
            path.count("/providers/") == 1
            and (
                ("/service/" in path and path.split("/service/")[1].count("/") == 0)
                or ("/redisenterprise/" in path and "/databases/" not in path)
            )
        ):
            assert call.body.get("tags") == naming.tags("dev"), call.path


def test_cache_link_secret_is_sent_but_never_read_back(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    cache_id = f"{apim_id(settings)}/caches/{naming.CACHE_ID}"
    sent = arm.get_secret(cache_id)
    assert sent is not None and "password=" in sent and ":10000," in sent
    shown = arm.get_resource(cache_id)
    assert shown is not None
    assert "password" not in str(shown)


@pytest.mark.parametrize(
    ("drift", "expected"),
    [
        (
            lambda arm, apim: arm.mutate(
                f"{apim}/backends/foundry-batch-east",
                lambda r: r["properties"].__setitem__("url", "https://elsewhere.example/openai/v1"),
            ),
            ("ensure_backends", Action.UPDATE, "foundry-batch-east", "url"),
        ),
        (
            lambda arm, apim: arm.edit_policy(
                f"{apim}/apis/openai/policies/policy",
                "<policies><inbound><base /></inbound><backend><base /></backend>"
                "<outbound><base /></outbound><on-error><base /></on-error></policies>",
            ),
            ("ensure_apis", Action.UPDATE, "openai/policy", "policy"),
        ),
        (
            lambda arm, apim: arm.remove(
                f"{apim}/apis/openai-sticky/operations/"
                + _first_operation(arm, apim, "openai-sticky")
            ),
            ("ensure_apis", Action.CREATE, None, "method"),
        ),
    ],
)
def test_drift_shows_as_exactly_that_change(
    settings: Settings,
    clients: AzureClients,
    arm: FakeArm,
    sleeps: Sleeps,
    drift: object,
    expected: tuple[str, Action, str | None, str],
) -> None:
    deploy(settings, clients, sleeps)
    drift(arm, apim_id(settings))  # type: ignore[operator]

    plan = engine.read_state(settings, clients).plan

    assert len(plan.changes) == 1, [(c.action, c.name) for c in plan.changes]
    change = plan.changes[0]
    step, action, name, field = expected
    assert (change.step, change.action) == (step, action)
    if name is not None:
        assert change.name == name
    assert field in change.diff
    deploy(settings, clients, sleeps)
    assert engine.read_state(settings, clients).plan.changes == ()


def _first_operation(arm: FakeArm, apim: str, api: str) -> str:
    prefix = f"{apim}/apis/{api}/operations/".lower()
    ops = sorted(i for i in arm.resource_ids() if i.startswith(prefix))
    return ops[0][len(prefix) :]


def test_deleted_role_assignment_is_planned_again(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    role = next(i for i in arm.resource_ids() if "roleassignments" in i and "batch-west" in i)
    arm.remove(role)

    plan = engine.read_state(settings, clients).plan

    assert [(c.action, c.type, c.name) for c in plan.changes] == [
        (Action.CREATE, "Microsoft.Authorization/roleAssignments", "batch-west")
    ]


def test_removing_a_foundry_removes_its_backend_pool_member_and_role(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps, tmp_path: Path
) -> None:
    deploy(settings, clients, sleeps)
    smaller = tmp_path / "smaller.toml"
    smaller.write_text(CONFIG.split('[[foundries]]\nname = "batch-west"')[0])
    fewer = load_settings(smaller)

    plan = engine.read_state(fewer, clients).plan

    got = {(c.action, c.type.split("/")[-1], c.name) for c in plan.changes}
    assert got == {
        (Action.DELETE, "backends", "foundry-batch-west"),
        (Action.UPDATE, "backends", naming.POOL_BACKEND_ID),
        (Action.DELETE, "roleAssignments", "batch-west"),
        # The policies name the regions, so one region fewer rewrites each of them.
        (Action.UPDATE, "policies", "openai/policy"),
        (Action.UPDATE, "policies", "openai-sticky/policy"),
        (Action.UPDATE, "policies", "openai-realtime/policy"),
    }
    deploy(fewer, clients, sleeps)
    assert engine.read_state(fewer, clients).plan.changes == ()


def test_unknown_foundry_stops_the_plan_with_its_name(
    clients: AzureClients, arm: FakeArm, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.replace('name = "batch-west"', 'name = "batch-nowhere"'))
    with pytest.raises(ConfigError, match="batch-nowhere"):
        engine.read_state(load_settings(path), clients)
    assert arm.writes() == []


def test_soft_deleted_apim_name_is_reported_with_the_fix(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    state = teardown.read_teardown(settings, clients, purge=False)
    teardown.apply_teardown(settings, clients, state, purge=False)

    with pytest.raises(AzureCallError) as caught:
        engine.read_state(settings, clients)
    assert "soft-deleted" in caught.value.message
    assert "teardown --purge" in caught.value.hint


def test_failed_lro_becomes_a_clear_error_and_a_rerun_finishes(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    arm.fail_lro_next(r"/redisEnterprise/[^/]+$", code="QuotaExceeded", message="No capacity left.")
    with pytest.raises(AzureCallError) as caught:
        deploy(settings, clients, sleeps)
    assert caught.value.arm_code == "QuotaExceeded"
    assert "No capacity left" in caught.value.message

    deploy(settings, clients, sleeps)
    assert engine.read_state(settings, clients).plan.changes == ()


def test_busy_apim_and_fresh_principal_are_retried(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    arm.fail_next("PUT", r"/backends/", status=409, code="Conflict", message="busy", times=2)
    deploy(settings, clients, sleeps)
    assert engine.read_state(settings, clients).plan.changes == ()
    assert sleeps.waits, "retries must wait through the injected sleeper"


def test_role_assignment_under_another_name_is_adopted(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    arm.fail_next(
        "PUT", r"/roleAssignments/", status=409, code="RoleAssignmentExists", message="exists"
    )
    deploy(settings, clients, sleeps)


def test_teardown_deletes_what_deploy_made_and_nothing_else(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    before = set(arm.resource_ids())
    deploy(settings, clients, sleeps)

    state = teardown.read_teardown(settings, clients, purge=True)
    teardown.apply_teardown(settings, clients, state, purge=True)

    assert set(arm.resource_ids()) == before
    assert teardown.read_teardown(settings, clients, purge=True).plan.changes == ()


def test_teardown_refuses_an_untagged_resource_with_our_name(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    arm.mutate(apim_id(settings), lambda r: r.__setitem__("tags", {}))
    writes = len(arm.writes())

    with pytest.raises(BatchgwError, match="refusing"):
        teardown.read_teardown(settings, clients, purge=False)
    assert len(arm.writes()) == writes


def test_classic_redis(clients: AzureClients, arm: FakeArm, sleeps: Sleeps, tmp_path: Path) -> None:
    path = tmp_path / "classic.toml"
    path.write_text(
        CONFIG.replace(
            "[[foundries]]", '[redis]\nkind = "classic"\nsku = "Standard"\n\n[[foundries]]', 1
        )
    )
    classic = load_settings(path)
    deploy(classic, clients, sleeps)
    assert engine.read_state(classic, clients).plan.changes == ()
    cache_id = f"{apim_id(classic)}/caches/{naming.CACHE_ID}"
    secret = arm.get_secret(cache_id)
    assert secret is not None and ".redis.cache.windows.net:6380," in secret


def test_foundry_group_is_read_from_azure(
    settings: Settings, clients: AzureClients, arm: FakeArm
) -> None:
    snapshot = engine.read_state(settings, clients)
    regions = [r.name for r in snapshot.desired.gateway.regions] if snapshot.desired.gateway else []
    assert regions == ["eastus2", "westus3"]
    assert all(f.resource_group == FOUNDRY_RG for f in snapshot.desired.foundries)


def test_no_change_plan_request_count_is_small_and_independent_of_operations(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    arm.page_size = 100
    start = len(arm.calls)

    assert engine.read_state(settings, clients).plan.changes == ()

    reads = arm.calls[start:]
    assert all(c.method == "GET" for c in reads)
    # 2 foundries, group, cluster + database, APIM, backends, cache, 2 role lists, the API
    # list, and each API's operations and policy: no request per operation.
    assert len(reads) <= 20, sorted(c.path for c in reads)
    assert not [c for c in reads if "/operations/" in c.path.lower()]


def test_unreadable_foundry_stops_the_plan_with_its_name(
    settings: Settings, clients: AzureClients, arm: FakeArm
) -> None:
    arm.fail_next(
        "GET", r"/accounts/batch-west$", status=403, code="AuthorizationFailed", message="no"
    )
    with pytest.raises(ConfigError, match="batch-west"):
        engine.read_state(settings, clients)


def test_transient_server_errors_are_retried(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    arm.fail_next("GET", r"/backends", status=503, code="ServiceUnavailable", times=2)
    arm.fail_next("PUT", r"/apis/openai$", status=500, code="InternalServerError", times=1)
    deploy(settings, clients, sleeps)
    assert engine.read_state(settings, clients).plan.changes == ()


@pytest.mark.parametrize(
    ("pattern", "step"),
    [
        (r"/service/apim-[^/]+$", "ensure_apim"),
        (r"/databases/default$", "ensure_redis"),
    ],
)
def test_failed_long_running_operation_names_step_and_code(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps, pattern: str, step: str
) -> None:
    arm.fail_lro_next(pattern, code="InternalOperationError", message="It broke.")
    with pytest.raises(AzureCallError) as caught:
        deploy(settings, clients, sleeps)
    assert caught.value.step == step
    assert caught.value.arm_code == "InternalOperationError"
    deploy(settings, clients, sleeps)
    assert engine.read_state(settings, clients).plan.changes == ()


def test_fresh_principal_is_retried_until_replicated(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    codes = [
        c.status for c in arm.calls if "roleassignments/" in c.path.lower() and c.method == "PUT"
    ]
    assert 400 in codes and codes[-1] == 201
    assert sleeps.waits


def test_policy_reformatting_by_apim_is_not_a_change(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    policy = arm.get_resource(f"{apim_id(settings)}/apis/openai-sticky/policies/policy")
    assert policy is not None
    value = str(policy["properties"]["value"])  # type: ignore[index]
    assert "\r\n" in value and "\t" in value
    assert engine.read_state(settings, clients).plan.changes == ()


def test_apply_stops_when_azure_changed_after_the_plan_was_shown(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    backends = f"{apim_id(settings)}/backends"
    set_property(arm, f"{backends}/foundry-batch-east", "url", "https://elsewhere.example/v1")
    snapshot = engine.read_state(settings, clients)
    assert [c.name for c in snapshot.plan.changes] == ["foundry-batch-east"]
    arm.remove(f"{backends}/foundry-batch-west")  # after the plan was shown
    writes = len(arm.writes())

    with pytest.raises(UnsafePlanError, match="foundry-batch-west"):
        engine.apply_plan(settings, clients, snapshot, sleep=sleeps)
    assert len(arm.writes()) == writes


def test_show_endpoints_before_deploy_says_what_to_do(
    settings: Settings, clients: AzureClients, arm: FakeArm
) -> None:
    with pytest.raises(BatchgwError) as caught:
        endpoints.read_endpoints(settings, clients)
    assert "batchgw deploy" in caught.value.hint


def test_teardown_keeps_a_group_that_holds_other_resources(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    deploy(settings, clients, sleeps)
    other = (
        f"/subscriptions/{SUB}/resourceGroups/rg-apim-dev/providers/"
        "Microsoft.Cache/redis/someone-elses-cache"
    )
    arm.seed(other, {"location": "eastus", "tags": {}, "properties": {}})

    state = teardown.read_teardown(settings, clients, purge=False)
    notes = teardown.apply_teardown(settings, clients, state, purge=False)

    assert any("kept resource group" in note for note in notes)
    assert arm.get_resource(other) is not None


def test_a_role_named_in_config_is_looked_up(
    clients: AzureClients, arm: FakeArm, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = tmp_path / "reader.toml"
    path.write_text(
        CONFIG.replace("[[foundries]]", '[access]\nrole = "Reader"\n\n[[foundries]]', 1)
    )
    reader = load_settings(path)
    deploy(reader, clients, sleeps)
    assert engine.read_state(reader, clients).plan.changes == ()
    lookups = [c for c in arm.calls if "roledefinitions" in c.path.lower()]
    assert lookups and "Reader" in str(lookups[0].query)


def test_an_unknown_role_is_a_config_error(
    clients: AzureClients, arm: FakeArm, tmp_path: Path
) -> None:
    path = tmp_path / "bad-role.toml"
    path.write_text(
        CONFIG.replace("[[foundries]]", '[access]\nrole = "No Such Role"\n\n[[foundries]]', 1)
    )
    with pytest.raises(ConfigError, match="No Such Role"):
        engine.read_state(load_settings(path), clients)
    assert arm.writes() == []


def test_config_changes_update_in_place(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps, tmp_path: Path
) -> None:
    deploy(settings, clients, sleeps)
    path = tmp_path / "changed.toml"
    path.write_text(
        CONFIG.replace("admin@contoso.com", "platform@contoso.com").replace(
            "[[foundries]]", '[redis]\nsku = "Balanced_B1"\n\n[[foundries]]', 1
        )
    )
    changed = load_settings(path)

    plan = engine.read_state(changed, clients).plan

    got = {(c.type, tuple(sorted(c.diff))) for c in plan.changes}
    assert got == {
        ("Microsoft.ApiManagement/service", ("publisherEmail",)),
        ("Microsoft.Cache/redisEnterprise", ("sku.name",)),
    }
    deploy(changed, clients, sleeps)
    assert engine.read_state(changed, clients).plan.changes == ()
    patches = [c for c in arm.calls if c.method == "PATCH"]
    assert patches and "publisherEmail" in str(patches[-1].body)


def test_moving_apim_to_another_location_is_blocked(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps, tmp_path: Path
) -> None:
    deploy(settings, clients, sleeps)
    path = tmp_path / "moved.toml"
    path.write_text(CONFIG.replace('location = "eastus"', 'location = "westeurope"'))
    with pytest.raises(BlockedChangeError, match="location"):
        engine.read_state(load_settings(path), clients)
