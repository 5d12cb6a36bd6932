"""Benchmark of the deployer against FakeArm served over HTTPS on 127.0.0.1.

Run from the repo root: `.venv/bin/python -m bench.deployer` (about a minute; `--help` for knobs).

What runs where:
- plan depth, plan requests and deploy: in-process, `engine.read_state` / `engine.apply_plan`
  with the production clients (`make_clients`: RequestsTransport, BATCHGW_ARM_TOKEN,
  REQUESTS_CA_BUNDLE = the fake's test CA), so the figures are network-bound like a real run.
- redeploy: the real `deploy --yes` and `plan` commands in-process (`batchgw.cli.main`), so the
  endpoint read that `deploy` adds after its plan is counted.
- startup: the installed `batchgw` console script as a subprocess.

Every figure is a ratio or count taken within one run, so the machine's speed mostly cancels out.
The exit code is 0 even when a figure misses: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import cli_env
from tests.fakes.server import ServedArm, serve_https

from batchgw import engine
from batchgw.azure import AzureClients, make_clients
from batchgw.config import load_settings

SUB = "00000000-0000-0000-0000-000000000000"
FOUNDRY_RG = "rg-bench-foundries"
REGIONS = ("eastus2", "westus3", "swedencentral", "francecentral", "japaneast", "uksouth")
APIM_TYPE = "microsoft.apimanagement/service"
REDIS_TYPE = "microsoft.cache/redisenterprise"
# Small but positive: azure-core reads Retry-After 0 as "use the default interval".
RETRY_AFTER = 0.02
# A GET of one API operation: a plan must list operations, never read them one by one.
PER_OPERATION_READ = re.compile(r"/apis/[^/]+/operations/[^/]+$", re.IGNORECASE)

# Targets from the issue.
MAX_PLAN_DEPTH = 3.0
MAX_PLAN_REQUESTS_2 = 20
MAX_REQUESTS_PER_FOUNDRY = 3.0
MAX_DEPLOY_RATIO = 1.1
MAX_REDEPLOY_RATIO = 1.2
MAX_HELP_SECONDS = 0.3
MAX_OFFLINE_PLAN_SECONDS = 1.0


@dataclass(frozen=True)
class Options:
    latency: float = 0.5  # per-request ARM latency for plan depth and redeploy
    # APIM and Redis create time for the deploy figure. The fixed cost around the LROs (the
    # plan, polling granularity, the short steps after APIM) is about 0.25 s here: 8% of 3 s,
    # 5% of 5 s, nothing next to the 10-45 minutes Azure takes.
    lro_seconds: float = 5.0
    deploy_latency: float = 0.05  # latency for counting the deploy's sequential round trips
    foundries: tuple[int, ...] = (2, 8, 32)
    repeat: int = 3  # samples per in-process figure (median)
    startup_repeat: int = 5  # console-script runs per startup figure (median)
    page_size: int = 100
    gateway_cache: bool = False


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    target: str
    ok: bool
    detail: str = ""
    counted: bool = True  # False: shown for insight, no target

    def line(self) -> str:
        extra = f"  [{self.detail}]" if self.detail else ""
        if not self.counted:
            return f"{self.label}: {self.value} (info, no target){extra}"
        verdict = "OK" if self.ok else "MISS"
        return f"{self.label}: {self.value} (target {self.target}) {verdict}{extra}"


@dataclass(frozen=True)
class Lab:
    fake: FakeArm
    arm: ServedArm
    config: Path


# ----- the served fake -----------------------------------------------------------------------


def foundry_names(count: int) -> list[str]:
    return [f"bench-foundry-{index:02d}" for index in range(count)]


def write_config(folder: Path, names: Sequence[str], arm_endpoint: str) -> Path:
    lines = [
        f'subscription_id = "{SUB}"',
        'environment = "bench"',
        'location = "eastus"',
        'publisher_name = "Bench"',
        'publisher_email = "bench@example.com"',
        f'arm_endpoint = "{arm_endpoint}"',
        "",
        "[apim]",
        'sku = "StandardV2"',
    ]
    for name in names:
        lines += ["", "[[foundries]]", f'name = "{name}"', f'resource_group = "{FOUNDRY_RG}"']
    path = folder / "batchgw.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def arm_environment(arm: ServedArm) -> Iterator[None]:
    """What the CLI would see: the fake's endpoint, a static token and the fake's CA."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("BATCHGW_", "AZURE_"))]:
        del os.environ[key]
    os.environ.update(cli_env(arm, base={}))
    os.environ.update({"NO_COLOR": "1", "COLUMNS": "120"})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def lab(foundries: int, page_size: int) -> Iterator[Lab]:
    # Fresh principals are retried with real sleeps (seconds); that wait is Azure's, not ours.
    fake = FakeArm(
        subscription_id=SUB,
        principal_not_found_calls=0,
        retry_after=RETRY_AFTER,
        page_size=page_size,
    )
    names = foundry_names(foundries)
    for index, name in enumerate(names):
        fake.seed_foundry(name, FOUNDRY_RG, REGIONS[index % len(REGIONS)])
    with tempfile.TemporaryDirectory(prefix="batchgw-bench-") as tmp:
        folder = Path(tmp)
        with serve_https(fake, folder) as arm, arm_environment(arm):
            yield Lab(fake, arm, write_config(folder, names, arm.base_url))
    if fake.spec_violations:
        raise RuntimeError(f"batchgw sent requests the specs refuse: {fake.spec_violations[:3]}")


# ----- in-process runs -----------------------------------------------------------------------


def close(clients: AzureClients) -> None:
    # All clients share one transport; closing one closes the session for all.
    clients.resource.close()


def timed_plan(lab: Lab) -> tuple[float, engine.Snapshot]:
    settings = load_settings(lab.config)
    clients = make_clients(settings)
    try:
        start = time.perf_counter()
        snapshot = engine.read_state(settings, clients)
        return time.perf_counter() - start, snapshot
    finally:
        close(clients)


def timed_deploy(lab: Lab) -> float:
    settings = load_settings(lab.config)
    clients = make_clients(settings)
    try:
        start = time.perf_counter()
        snapshot = engine.read_state(settings, clients)
        engine.apply_plan(settings, clients, snapshot)
        return time.perf_counter() - start
    finally:
        close(clients)


def settle(lab: Lab) -> None:
    """Deploy, then check that a plan is clean (else the benchmark measures the wrong thing)."""
    timed_deploy(lab)
    _, snapshot = timed_plan(lab)
    if snapshot.plan.has_changes:
        names = [c.name for c in snapshot.plan.changes][:5]
        raise RuntimeError(f"a plan right after deploy still has changes: {names}")


def median_of(repeat: int, sample: Callable[[], float]) -> float:
    return statistics.median(sample() for _ in range(max(1, repeat)))


def plan_wall(lab: Lab) -> float:
    return timed_plan(lab)[0]


# ----- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    foundries: int
    depth: float
    wall_0: float
    wall_l: float
    requests: int
    per_operation_reads: int


def measure_plan(options: Options, foundries: int) -> PlanResult:
    with lab(foundries, options.page_size) as bench:
        settle(bench)
        plan_wall(bench)  # warm: first-use imports and TLS contexts
        before = len(bench.fake.calls)
        plan_wall(bench)
        calls = bench.fake.calls[before:]
        reads = sum(1 for c in calls if c.method == "GET" and PER_OPERATION_READ.search(c.path))
        walls_0, walls_l = [], []
        for _ in range(max(1, options.repeat)):
            bench.fake.latency = 0.0
            walls_0.append(plan_wall(bench))
            bench.fake.latency = options.latency
            walls_l.append(plan_wall(bench))
        bench.fake.latency = 0.0
    wall_0, wall_l = statistics.median(walls_0), statistics.median(walls_l)
    return PlanResult(
        foundries=foundries,
        depth=(wall_l - wall_0) / options.latency,
        wall_0=wall_0,
        wall_l=wall_l,
        requests=len(calls),
        per_operation_reads=reads,
    )


def depth_figure(result: PlanResult, latency: float) -> Figure:
    detail = f"{result.wall_l:.2f} s at L={latency:g} s, {result.wall_0:.2f} s at L=0"
    if result.wall_0 > latency:
        # Work or stalls at L=0 overlap the latency at L and hide round trips in the difference.
        detail += "; WARNING: the plan at L=0 takes longer than L, the depth may be understated"
    return Figure(
        f"plan depth ({result.foundries} foundries)",
        f"{result.depth:.1f} round trips",
        f"<= {MAX_PLAN_DEPTH:g}",
        result.depth <= MAX_PLAN_DEPTH,
        detail,
    )


def request_figures(results: Sequence[PlanResult], page_size: int) -> list[Figure]:
    figures = []
    first = results[0]
    target = MAX_PLAN_REQUESTS_2 if first.foundries <= 2 else None
    if target is not None:
        figures.append(
            Figure(
                f"plan requests ({first.foundries} foundries)",
                f"{first.requests} requests",
                f"<= {target}",
                first.requests <= target,
                f"page_size={page_size}",
            )
        )
    slopes = [
        (b.requests - a.requests) / (b.foundries - a.foundries)
        for a, b in itertools.pairwise(results)
    ]
    reads = sum(r.per_operation_reads for r in results)
    counts = ", ".join(f"{r.foundries}: {r.requests}" for r in results)
    linear = all(abs(s - slopes[0]) <= 0.5 for s in slopes) if slopes else True
    steep = max(slopes, default=0.0)
    figures.append(
        Figure(
            "plan requests per extra foundry",
            f"{steep:.1f} requests, {reads} per-operation reads",
            f"<= {MAX_REQUESTS_PER_FOUNDRY:g}, linear, 0 per-operation reads",
            steep <= MAX_REQUESTS_PER_FOUNDRY and linear and reads == 0,
            f"requests by foundries: {counts}",
        )
    )
    return figures


def deploy_wall(options: Options, latency: float) -> float:
    with lab(2, options.page_size) as bench:
        bench.fake.set_lro_seconds(APIM_TYPE, options.lro_seconds)
        bench.fake.set_lro_seconds(REDIS_TYPE, options.lro_seconds)
        bench.fake.latency = latency
        wall = timed_deploy(bench)
        bench.fake.latency = 0.0
        _, snapshot = timed_plan(bench)
        if snapshot.plan.has_changes:
            raise RuntimeError("the deploy did not converge: a plan after it has changes")
    return wall


def deploy_figures(options: Options) -> list[Figure]:
    # The ratio is taken at latency 0, so it shows what the step graph overlaps; the round
    # trips outside the LROs (sequential requests on the critical path) are measured apart.
    walls_0, walls_l = [], []
    for _ in range(max(1, options.repeat)):
        walls_0.append(deploy_wall(options, 0.0))
        walls_l.append(deploy_wall(options, options.deploy_latency))
    wall_0, wall_l = statistics.median(walls_0), statistics.median(walls_l)
    ratio = wall_0 / options.lro_seconds
    trips = (wall_l - wall_0) / options.deploy_latency
    return [
        Figure(
            "deploy (2 foundries)",
            f"{ratio:.2f} x the slowest LRO",
            f"<= {MAX_DEPLOY_RATIO:g}",
            ratio <= MAX_DEPLOY_RATIO,
            f"{wall_0:.2f} s with APIM and Redis LROs of {options.lro_seconds:g} s, L=0",
        ),
        Figure(
            "deploy round trips outside the LROs (2 foundries)",
            f"{trips:.1f} round trips",
            "",
            True,
            f"{wall_l:.2f} s at L={options.deploy_latency:g} s, {wall_0:.2f} s at L=0",
            counted=False,
        ),
    ]


def cli_wall(*args: str) -> float:
    """One `batchgw` command in this process, as the console script would run it."""
    from batchgw.cli import main

    saved = sys.argv
    sys.argv = ["batchgw", *args]
    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    start = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = saved
    wall = time.perf_counter() - start
    if code not in (0, None):
        raise RuntimeError(f"batchgw {args[0]} failed ({code}): {err.getvalue()[-500:]}")
    return wall


def redeploy_figures(options: Options) -> list[Figure]:
    def command(bench: Lab, *args: str) -> float:
        return cli_wall(*args, "-c", str(bench.config))

    with lab(2, options.page_size) as bench:
        settle(bench)
        command(bench, "deploy", "--yes")  # warm
        bench.fake.latency = options.latency
        writes = len(bench.fake.writes())
        plans, deploys = [], []
        for _ in range(max(1, options.repeat)):
            plans.append(command(bench, "plan"))
            deploys.append(command(bench, "deploy", "--yes"))
        written = len(bench.fake.writes()) - writes
        bench.fake.latency = 0.0
    plan, deploy = statistics.median(plans), statistics.median(deploys)
    ratio = deploy / plan
    return [
        Figure("redeploy writes", f"{written} writes", "0", written == 0),
        Figure(
            "redeploy / plan wall",
            f"{ratio:.2f} x",
            f"<= {MAX_REDEPLOY_RATIO:g}",
            ratio <= MAX_REDEPLOY_RATIO,
            f"deploy {deploy:.2f} s, plan {plan:.2f} s at L={options.latency:g} s "
            "(CLI commands in-process)",
        ),
    ]


def console_script() -> str:
    script = Path(sys.executable).with_name("batchgw")
    if not script.exists():
        raise RuntimeError(f"{script} not found: install the project (pip install -e .)")
    return str(script)


def startup_figures(options: Options) -> list[Figure]:
    script = console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHGW_", "AZURE_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "120"})

    def run(*args: str) -> float:
        start = time.perf_counter()
        done = subprocess.run(
            [script, *args],
            capture_output=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"batchgw {args} failed: {done.stderr.decode()[-500:]}")
        return wall

    with tempfile.TemporaryDirectory(prefix="batchgw-bench-") as tmp:
        config = write_config(Path(tmp), foundry_names(2), "https://management.azure.com")
        run("--help")  # warm the OS file cache and .pyc files
        help_wall = median_of(options.startup_repeat, lambda: run("--help"))
        offline_wall = median_of(
            options.startup_repeat, lambda: run("plan", "--offline", "-c", str(config))
        )
    return [
        Figure(
            "startup `batchgw --help`",
            f"{help_wall:.2f} s",
            f"<= {MAX_HELP_SECONDS:g} s",
            help_wall <= MAX_HELP_SECONDS,
            f"median of {options.startup_repeat} subprocess runs",
        ),
        Figure(
            "startup `batchgw plan --offline`",
            f"{offline_wall:.2f} s",
            f"<= {MAX_OFFLINE_PLAN_SECONDS:g} s",
            offline_wall <= MAX_OFFLINE_PLAN_SECONDS,
            f"median of {options.startup_repeat} subprocess runs",
        ),
    ]


def gateway_cache() -> None:
    """The gateway cache figure is another benchmark's; run it only when asked."""
    if not (Path(__file__).parent / "gateway_cache.py").exists():
        print("gateway cache: bench/gateway_cache.py not present (not measured)")
        return
    done = subprocess.run(
        [sys.executable, "-m", "bench.gateway_cache"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(done.stdout.rstrip())
    if done.returncode != 0:
        print(f"gateway cache: bench.gateway_cache exited {done.returncode}")


# ----- main ----------------------------------------------------------------------------------


def run(options: Options) -> list[Figure]:
    figures: list[Figure] = []

    def show(new: Sequence[Figure]) -> None:
        for figure in new:
            print(figure.line(), flush=True)
        figures.extend(new)

    results = []
    for count in options.foundries:
        result = measure_plan(options, count)
        results.append(result)
        show([depth_figure(result, options.latency)])
    show(request_figures(results, options.page_size))
    show(deploy_figures(options))
    show(redeploy_figures(options))
    show(startup_figures(options))
    if options.gateway_cache:
        gateway_cache()
    else:
        print("gateway cache: see `python -m bench.gateway_cache` (or pass --gateway-cache)")
    counted = [f for f in figures if f.counted]
    passed = sum(f.ok for f in counted)
    print(f"{passed}/{len(counted)} figures within target")
    return figures


def parse(argv: Sequence[str] | None) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench.deployer", description=__doc__)
    parser.add_argument("--latency", type=float, default=defaults.latency)
    parser.add_argument("--lro-seconds", type=float, default=defaults.lro_seconds)
    parser.add_argument("--deploy-latency", type=float, default=defaults.deploy_latency)
    parser.add_argument(
        "--foundries", default=",".join(str(n) for n in defaults.foundries), help="e.g. 2,8,32"
    )
    parser.add_argument("--repeat", type=int, default=defaults.repeat)
    parser.add_argument("--startup-repeat", type=int, default=defaults.startup_repeat)
    parser.add_argument("--page-size", type=int, default=defaults.page_size)
    parser.add_argument("--gateway-cache", action="store_true")
    args = parser.parse_args(argv)
    counts = tuple(sorted({int(n) for n in str(args.foundries).split(",") if n.strip()}))
    if not counts or min(args.latency, args.lro_seconds, args.deploy_latency) <= 0:
        parser.error("need a foundry count, and positive latencies and --lro-seconds")
    return Options(
        latency=args.latency,
        lro_seconds=args.lro_seconds,
        deploy_latency=args.deploy_latency,
        foundries=counts,
        repeat=args.repeat,
        startup_repeat=args.startup_repeat,
        page_size=args.page_size,
        gateway_cache=args.gateway_cache,
    )


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
