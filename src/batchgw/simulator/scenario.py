"""The built-in scenario: many concurrent clients run batch and responses workflows through the
simulated gateway while records expire, Redis is flushed or down, and regions throttle or fail."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from batchgw.gateway.apis import ApiSpec
from batchgw.gateway.spec import GatewaySpec
from batchgw.simulator.backends import BreakerRule
from batchgw.simulator.client import Client, GatewayCallError
from batchgw.simulator.report import SimulationReport, build_report
from batchgw.simulator.simulation import Simulation

# Scenario breaker: the deployed rule (3 failures in 10 s) with a 1 s trip, so a run stays short.
SCENARIO_BREAKER = BreakerRule(count=3, interval=10.0, trip=1.0, accept_retry_after=True)


@dataclass(frozen=True, slots=True)
class FaultStep:
    at: float  # seconds after the clients start
    name: str
    action: Callable[[Simulation], None]


def default_faults(gateway: GatewaySpec) -> list[FaultStep]:
    first, last = gateway.regions[0].name, gateway.regions[-1].name
    return [
        FaultStep(
            0.2,
            f"throttle {first} for 0.6 s (429, Retry-After 1)",
            lambda s: s.regions[first].throttle(0.6, retry_after=1),
        ),
        FaultStep(0.5, "flush the affinity records", lambda s: _flush(s)),
        FaultStep(0.9, "Redis down for 0.5 s", lambda s: s.cache_down()),
        FaultStep(1.4, "Redis back", lambda s: s.cache_up()),
        FaultStep(1.6, f"{last} fails for 0.4 s (503)", lambda s: s.regions[last].fail(0.4)),
    ]


def _flush(sim: Simulation) -> None:
    sim.cache.flush()


def batch_workflow(
    client: Client, index: int, api: str = "openai-sticky", pause: float = 0.0
) -> None:
    lines = [
        {
            "custom_id": f"req-{index}-{n}",
            "method": "POST",
            "url": "/chat/completions",
            "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": str(n)}]},
        }
        for n in range(2)
    ]
    if index % 4 == 0:
        lines.append(
            {"custom_id": f"err-{index}", "method": "POST", "url": "/chat/completions", "body": {}}
        )
    payload = ("\n".join(json.dumps(x) for x in lines) + "\n").encode()
    uploaded, region = client.upload(api, f"input-{index}.jsonl", payload)
    pin = {"x-backend-region": region} if api == "openai" else {}
    batch, where = client.json(
        api,
        "POST",
        "/batches",
        {
            "input_file_id": uploaded["id"],
            "endpoint": "/chat/completions",
            "completion_window": "24h",
        },
        headers=pin,
    )
    client.expect_region(where, region, "batch create")
    time.sleep(pause)  # lets affinity records expire mid-flow when the TTL is short
    for _ in range(30):
        batch, where = client.json(api, "GET", f"/batches/{batch['id']}", headers=pin)
        client.expect_region(where, region, "batch poll")
        if batch["status"] == "completed":
            break
        time.sleep(0.02)
    else:
        raise GatewayCallError(f"batch {batch['id']} never completed")
    for key in ("output_file_id", "error_file_id"):
        file_id = batch.get(key)
        if file_id:
            content, where = client.raw(api, "GET", f"/files/{file_id}/content", headers=pin)
            client.expect_region(where, region, f"download {key}")
            if key == "output_file_id" and f'"region": "{region}"' not in content.decode():
                raise GatewayCallError(f"output of {batch['id']} was not made in {region}")
    if index % 4 == 0 and not batch.get("error_file_id"):
        raise GatewayCallError(f"batch {batch['id']} lost its error file")
    _, where = client.json(api, "GET", f"/files/{uploaded['id']}", headers=pin)
    client.expect_region(where, region, "file get")


def responses_workflow(client: Client, index: int, pause: float = 0.0) -> None:
    session = {"x-session-id": f"session-{index}-{uuid.uuid4().hex[:6]}"}
    first, region = client.json(
        "openai-realtime",
        "POST",
        "/responses",
        {"model": "gpt-4o", "input": "hello"},
        headers=session,
    )
    previous = first["id"]
    time.sleep(pause)
    for turn in range(3):
        stream = turn == 1
        body = {
            "model": "gpt-4o",
            "input": f"turn {turn}",
            "previous_response_id": previous,
            "stream": stream,
        }
        if stream:
            previous, where = client.stream("openai-realtime", "/responses", body, session)
        else:
            data, where = client.json(
                "openai-realtime", "POST", "/responses", body, headers=session
            )
            previous = data["id"]
        client.expect_region(where, region, f"response turn {turn}")
    _, where = client.json("openai-realtime", "GET", f"/responses/{previous}", headers=session)
    client.expect_region(where, region, "response get")
    _, where = client.json("openai-realtime", "GET", f"/responses/{previous}/input_items")
    client.expect_region(where, region, "input items")
    # Chat is stateless: it follows the session's region while that record exists, else the pool.
    client.json(
        "openai-realtime",
        "POST",
        "/chat/completions",
        {"model": "gpt-4o", "messages": []},
        headers=session,
    )
    _, where = client.json("openai-realtime", "DELETE", f"/responses/{first['id']}")
    client.expect_region(where, region, "response delete")


def run_workflows(
    sim: Simulation, clients: int, faults: list[FaultStep], *, pause: float = 0.0
) -> SimulationReport:
    served = sim.served()
    outcomes: list[str | None] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        client = Client(served)
        try:
            if index % 3 == 2:
                responses_workflow(client, index, pause)
            elif index % 10 == 9:
                batch_workflow(client, index, api="openai", pause=pause)
            else:
                batch_workflow(client, index, pause=pause)
            outcome: str | None = None
        except GatewayCallError as exc:
            outcome = f"client {index}: {exc}"
        with lock:
            outcomes.append(outcome)

    stop = threading.Event()
    injected: list[str] = []

    def inject() -> None:
        start = time.monotonic()
        for step in faults:
            if stop.wait(max(0.0, step.at - (time.monotonic() - start))):
                break
            step.action(sim)
            injected.append(step.name)

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    with ThreadPoolExecutor(max_workers=max(clients, 1)) as pool:
        list(pool.map(one, range(clients)))
    stop.set()
    injector.join()
    sim.cache_up()
    report = build_report(sim.apim, sim.world)
    report.workflows_completed = sum(1 for o in outcomes if o is None)
    report.failures = [o for o in outcomes if o is not None]
    report.workflows_failed = len(report.failures)
    report.faults = injected
    return report


def run_scenario(
    gateway: GatewaySpec,
    *,
    clients: int = 50,
    redis_url: str | None = None,
    seed: int = 0,
    faults: bool = True,
    apis: tuple[ApiSpec, ...] | None = None,
) -> SimulationReport:
    """Run the built-in scenario against fake regions and a real Redis; see SimulationReport.

    `apis` runs given policy documents (e.g. exactly what a deploy sent) instead of rendering.
    """
    with Simulation(
        gateway, redis_url=redis_url, seed=seed, breaker=SCENARIO_BREAKER, apis=apis
    ) as sim:
        return run_workflows(sim, clients, default_faults(gateway) if faults else [])
