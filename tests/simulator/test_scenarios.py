"""The real policies from build_apis under load and faults: nothing may reach a non-owner."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from batchgw.simulator.context import Headers, Response
from batchgw.simulator.redis_server import RedisServer
from batchgw.simulator.report import SimulationReport
from batchgw.simulator.scenario import SCENARIO_BREAKER, FaultStep, default_faults, run_workflows
from batchgw.simulator.simulation import Simulation
from tests.simulator.conftest import make_gateway


def assert_clean(report: SimulationReport) -> None:
    assert report.unsupported == []
    assert report.auth_failures == []
    assert report.ownership_errors == 0, report.ownership_details
    assert report.workflows_failed == 0, report.failures
    assert report.forbidden_failovers == []
    assert report.upload_body_reads == 0
    assert report.ok
    assert_cache_target(report)


# Realtime requests that only follow a record: on a hit they read one and store nothing.
REALTIME_FOLLOWERS = [
    f"openai-realtime {op}"
    for op in ("responses-get", "responses-delete", "responses-cancel", "responses-input-items")
]


def assert_cache_target(report: SimulationReport) -> None:
    """Issue 5: one lookup per routed request and one store per new object; a miss may add
    lookups (finding the owner) and a store (the repair) for each key it missed."""
    for kind, ops in report.cache_ops_per_request.items():
        assert ops["lookups"] <= ops["requests"] + ops["misses"], (kind, ops)
        if ops["misses"] == 0:
            assert ops["max_lookups"] <= 1, (kind, ops)
        if kind in REALTIME_FOLLOWERS:
            assert ops["stores"] <= ops["misses"], (kind, ops)
        if kind == "openai-realtime responses-create":
            # one new response each; a new session's record comes with a (session) miss
            assert ops["stores"] <= ops["requests"] + ops["misses"], (kind, ops)


def test_cache_round_trips_without_faults(redis_url: str) -> None:
    gateway = make_gateway(2)
    with Simulation(gateway, redis_url=redis_url, breaker=SCENARIO_BREAKER) as sim:
        report = run_workflows(sim, 12, [])
    assert_clean(report)
    ops = report.cache_ops_per_request
    for kind in [*REALTIME_FOLLOWERS, "openai-realtime chat-completions"]:
        if kind in ops:  # the scenario never cancels
            assert ops[kind]["lookups"] == ops[kind]["requests"], (kind, ops[kind])
            assert ops[kind]["stores"] == 0, (kind, ops[kind])
            assert ops[kind]["misses"] == 0, (kind, ops[kind])
    create = ops["openai-realtime responses-create"]
    # Per conversation: a new session (lookup misses; session + response stored), two chained
    # turns (one lookup of response:<prev>, one store), a streamed turn (nothing stored) and
    # the turn after it, whose previous response is recorded by the miss path (the session's
    # record then read to find it: two lookups, the repair and the new response stored).
    conversations = create["requests"] / 4
    assert create["lookups"] == 5 * conversations
    assert create["stores"] == 5 * conversations
    assert create["misses"] == 2 * conversations
    assert create["max_lookups"] == 2
    for kind in ("files-get", "files-content", "batches-create", "batches-get"):
        assert ops[f"openai-sticky {kind}"]["lookups"] == ops[f"openai-sticky {kind}"]["requests"]
    assert ops["openai-sticky files-create"]["lookups"] == 0


@pytest.mark.parametrize("regions", [2, 3])
def test_fifty_clients_with_every_fault(redis_url: str, regions: int) -> None:
    gateway = make_gateway(regions)
    with Simulation(gateway, redis_url=redis_url, breaker=SCENARIO_BREAKER) as sim:
        report = run_workflows(sim, 50, default_faults(gateway))
    assert_clean(report)
    assert report.workflows_completed == 50
    assert len(report.faults) == 5
    assert report.affinity["repairs"] > 0  # flushed and unreachable records were found again
    assert report.cache_unavailable > 0
    assert set(report.requests_by_region) == {r.name for r in gateway.regions}


def test_records_expiring_mid_flow(redis_url: str) -> None:
    gateway = make_gateway(2, ttl=1)
    with Simulation(gateway, redis_url=redis_url, breaker=SCENARIO_BREAKER) as sim:
        report = run_workflows(sim, 12, [], pause=1.2)  # every record made so far expires
    assert_clean(report)
    assert report.affinity["repairs"] > 0


def test_redis_down_throughout_still_routes_by_probing(redis_url: str) -> None:
    gateway = make_gateway(2)
    with Simulation(gateway, redis_url=redis_url, breaker=SCENARIO_BREAKER) as sim:
        sim.cache.blackout = True
        report = run_workflows(sim, 12, [])
    assert_clean(report)
    assert report.affinity["hits"] == 0 and report.cache_unavailable > 0
    assert sum(report.probes_by_region.values()) > 0


def test_own_redis_stopped_and_started(redis_url: str) -> None:
    gateway = make_gateway(2)
    with Simulation(gateway, breaker=SCENARIO_BREAKER) as sim:  # private redis-server
        steps = [
            FaultStep(0.1, "down", lambda s: s.cache_down()),
            FaultStep(0.4, "up", lambda s: s.cache_up()),
        ]
        report = run_workflows(sim, 12, steps)
    assert_clean(report)


def test_one_region_throttled_then_failing(redis_url: str) -> None:
    gateway = make_gateway(3)
    with Simulation(gateway, redis_url=redis_url, breaker=SCENARIO_BREAKER) as sim:
        sim.regions["eastus2"].throttle(0.8, retry_after=1)
        steps = [FaultStep(0.3, "fail", lambda s: s.regions["swedencentral"].fail(0.5))]
        report = run_workflows(sim, 20, steps)
        throttled = [r for r in sim.world.records if r.region == "eastus2" and r.status == 429]
    assert_clean(report)
    assert throttled


def test_run_scenario_public_api(redis_url: str) -> None:
    from batchgw.simulator import run_scenario

    report = run_scenario(make_gateway(2), clients=6, redis_url=redis_url, faults=False)
    data = report.to_dict()
    for key in (
        "requests",
        "requests_by_region",
        "workflows_completed",
        "workflows_failed",
        "ownership_errors",
        "affinity",
        "cache_ops_per_request",
    ):
        assert key in data
    assert data["workflows_completed"] == 6 and report.ok
    assert set(report.affinity) >= {"hits", "misses", "repairs"}
    assert report.lines()[-1] == "result: OK"


# ---------------------------------------------------------------- ids sent by the client


def _carrying(where: str, bad: str) -> tuple[str, str, dict[str, str], object]:
    """(method, path, headers, JSON body) of a request carrying `bad` as the id `where`."""
    batch = {"endpoint": "/v1/chat/completions", "completion_window": "24h"}
    turn = {"model": "gpt-4o", "input": "hi"}
    return {
        "file_id": ("GET", f"/openai-sticky/files/{bad}", {}, None),
        "file_id content": ("GET", f"/openai-sticky/files/{bad}/content", {}, None),
        "file_id delete": ("DELETE", f"/openai-sticky/files/{bad}", {}, None),
        "batch_id": ("GET", f"/openai-sticky/batches/{bad}", {}, None),
        "batch_id cancel": ("POST", f"/openai-sticky/batches/{bad}/cancel", {}, {}),
        "input_file_id": ("POST", "/openai-sticky/batches", {}, {**batch, "input_file_id": bad}),
        "response_id": ("GET", f"/openai-realtime/responses/{bad}", {}, None),
        "response_id input_items": (
            "GET",
            f"/openai-realtime/responses/{bad}/input_items",
            {},
            None,
        ),
        "previous_response_id": (
            "POST",
            "/openai-realtime/responses",
            {"x-session-id": "s-1"},
            {**turn, "previous_response_id": bad},
        ),
        "x-session-id": ("POST", "/openai-realtime/chat/completions", {"x-session-id": bad}, turn),
    }[where]


_IN_PATH = ["file_id", "file_id content", "file_id delete", "batch_id", "batch_id cancel"]
_IN_PATH += ["response_id", "response_id input_items"]
_IN_VALUE = ["input_file_id", "previous_response_id", "x-session-id"]
# 300 characters; an escaped "../"; a non-ASCII letter (which char.IsLetterOrDigit would take);
# a brace, a slash, a space.
_LONG = "x" * 300
_BAD_IN_PATH = {
    "long": _LONG,
    "escaped": "a%2F..%2Fb",
    "unicode": "r\u00e9sum\u00e9",
    "brace": "a{b}",
}
_BAD_IN_VALUE = {"long": _LONG, "slash": "a/../b", "unicode": "r\u00e9sum\u00e9", "space": "a b"}
_BAD_CASES = [
    pytest.param(where, bad, id=f"{where}-{shape}")
    for places, shapes in ((_IN_PATH, _BAD_IN_PATH), (_IN_VALUE, _BAD_IN_VALUE))
    for where in places
    for shape, bad in shapes.items()
]


@pytest.fixture(scope="module")
def id_sim(redis_server: RedisServer) -> Iterator[Simulation]:
    with Simulation(make_gateway(2), redis_url=redis_server.url) as sim:
        yield sim


def _send(
    sim: Simulation, method: str, path: str, headers: dict[str, str], body: object
) -> Response:
    pairs = [("Ocp-Apim-Subscription-Key", sim.apim.subscription_key), *headers.items()]
    data = b""
    if body is not None:
        pairs.append(("Content-Type", "application/json"))
        data = json.dumps(body).encode()
    return sim.apim.handle(method, path, Headers(pairs), data)


def _activity(sim: Simulation) -> tuple[int, int, int]:
    """Cache operations the policies made, requests the regions saw, records in the cache."""
    ops = sum(s.lookups + s.stores + s.removes for s in sim.apim.stats.values())
    return ops, len(sim.world.records), len(sim.cache.keys())


@pytest.mark.parametrize(("where", "bad"), _BAD_CASES)
def test_bad_client_id_is_refused_before_cache_and_regions(
    id_sim: Simulation, where: str, bad: str
) -> None:
    before = _activity(id_sim)
    response = _send(id_sim, *_carrying(where, bad))
    assert response.status == 400
    assert response.headers.get("x-backend-region") == "none"
    error = json.loads(response.body.data)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_id"
    assert error["param"] == where.split()[0]
    assert bad not in error["message"]  # never echoed
    assert _activity(id_sim) == before == (before[0], before[1], 0)


@pytest.mark.parametrize("where", [*_IN_PATH, *_IN_VALUE])
def test_longest_id_and_every_allowed_character_pass(id_sim: Simulation, where: str) -> None:
    """128 characters of A-Z a-z 0-9 - _ . : are routed as usual: the lookup misses, every
    region is asked, and the answer is 404 naming the id (a session id just routes)."""
    allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz" + "0123456789-_.:"
    good = (allowed * 2)[:128]
    before = _activity(id_sim)
    response = _send(id_sim, *_carrying(where, good))
    ops, region_requests, _ = _activity(id_sim)
    if where == "x-session-id":
        assert response.status == 200
        assert response.headers.get("x-session-id") == good
    else:
        assert response.status == 404
        assert json.loads(response.body.data)["error"]["code"] == "not_found"
    assert ops > before[0] and region_requests > before[1]
