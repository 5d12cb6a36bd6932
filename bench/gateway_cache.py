"""Cache round trips per request type through the simulated gateway (a benchmark, not a test).

Target: at most one lookup on a routed request, one store per new object, more only on a miss.
Run: .venv/bin/python bench/gateway_cache.py [--clients N] [--regions N] [--faults]
"""

from __future__ import annotations

import argparse

from batchgw.gateway.spec import GatewaySpec, RegionSpec
from batchgw.simulator import run_scenario


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--faults", action="store_true", help="inject the scenario's faults")
    args = parser.parse_args()
    names = ["eastus2", "westus3", "swedencentral", "francecentral"][: args.regions]
    gateway = GatewaySpec(
        regions=tuple(
            RegionSpec(n, f"foundry-{n}", 1, 1, f"https://acct-{n}.openai.azure.com/openai/v1")
            for n in names
        ),
        pool_backend_id="foundry-pool",
        affinity_ttl_seconds=3600,
    )
    report = run_scenario(gateway, clients=args.clients, faults=args.faults)
    print(
        f"{'request type':<42} {'n':>5} {'lookup/req':>10} {'store/req':>9} "
        f"{'remove/req':>10} {'misses':>6} {'max lookups':>11}"
    )
    for kind, ops in sorted(report.cache_ops_per_request.items()):
        print(
            f"{kind:<42} {int(ops['requests']):>5} {ops['lookups_per_request']:>10.2f} "
            f"{ops['stores_per_request']:>9.2f} {ops['removes_per_request']:>10.2f} "
            f"{int(ops['misses']):>6} {int(ops['max_lookups']):>11}"
        )
    print(
        "affinity:",
        report.affinity,
        "ownership errors:",
        report.ownership_errors,
        "result:",
        "OK" if report.ok else "FAILED",
    )


if __name__ == "__main__":
    main()
