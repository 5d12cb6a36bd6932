"""What a simulation run found, as a dict (for --json) and as plain lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from batchgw.simulator.gateway import SimulatedApim
from batchgw.simulator.regions import World


@dataclass
class SimulationReport:
    requests: int = 0
    requests_by_region: dict[str, int] = field(default_factory=dict)
    probes_by_region: dict[str, int] = field(default_factory=dict)
    workflows_completed: int = 0
    workflows_failed: int = 0
    failures: list[str] = field(default_factory=list)
    ownership_errors: int = 0
    ownership_details: list[str] = field(default_factory=list)
    affinity: dict[str, int] = field(default_factory=dict)
    cache_ops_per_request: dict[str, dict[str, float]] = field(default_factory=dict)
    cache_unavailable: int = 0
    failovers: dict[str, int] = field(default_factory=dict)
    forbidden_failovers: list[str] = field(default_factory=list)
    auth_failures: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    upload_body_reads: int = 0
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.ownership_errors
            or self.workflows_failed
            or self.forbidden_failovers
            or self.auth_failures
            or self.unsupported
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "requests": self.requests,
            "requests_by_region": self.requests_by_region,
            "probes_by_region": self.probes_by_region,
            "workflows_completed": self.workflows_completed,
            "workflows_failed": self.workflows_failed,
            "failures": self.failures[:20],
            "ownership_errors": self.ownership_errors,
            "ownership_details": self.ownership_details[:20],
            "affinity": self.affinity,
            "cache_ops_per_request": self.cache_ops_per_request,
            "cache_unavailable": self.cache_unavailable,
            "failovers": self.failovers,
            "forbidden_failovers": self.forbidden_failovers[:20],
            "auth_failures": self.auth_failures[:20],
            "unsupported": self.unsupported[:20],
            "upload_body_reads": self.upload_body_reads,
            "faults": self.faults,
        }

    def lines(self) -> list[str]:
        out = [
            f"gateway requests: {self.requests}",
            "backend requests by region: "
            + ", ".join(f"{k}={v}" for k, v in sorted(self.requests_by_region.items())),
            "owner probes by region: "
            + (", ".join(f"{k}={v}" for k, v in sorted(self.probes_by_region.items())) or "none"),
            f"workflows: {self.workflows_completed} completed, {self.workflows_failed} failed",
            f"ownership errors: {self.ownership_errors}",
            "affinity: " + ", ".join(f"{k}={v}" for k, v in self.affinity.items()),
            f"cache unreachable events: {self.cache_unavailable}",
            "failovers: "
            + (", ".join(f"{k}={v}" for k, v in sorted(self.failovers.items())) or "none"),
        ]
        if self.faults:
            out.append("faults injected: " + "; ".join(self.faults))
        out.append(
            "cache round trips per request (lookups/stores/removes per request, max lookups):"
        )
        for kind, ops in sorted(self.cache_ops_per_request.items()):
            out.append(
                f"  {kind:<40} n={int(ops['requests']):<5} lookup={ops['lookups_per_request']:.2f} "
                f"store={ops['stores_per_request']:.2f} remove={ops['removes_per_request']:.2f} "
                f"max_lookups={int(ops['max_lookups'])}"
            )
        for title, items in (
            ("failures", self.failures),
            ("ownership", self.ownership_details),
            ("forbidden failovers", self.forbidden_failovers),
            ("auth", self.auth_failures),
            ("unsupported", self.unsupported),
        ):
            out += [f"{title}: {item}" for item in items[:10]]
        out.append("result: " + ("OK" if self.ok else "FAILED"))
        return out


def build_report(apim: SimulatedApim, world: World) -> SimulationReport:
    report = SimulationReport()
    with world.lock:
        records = list(world.records)
        report.auth_failures = list(world.auth_failures)
    forwarded = [r for r in records if r.origin == "forward-request"]
    report.requests_by_region = dict(Counter(r.region for r in forwarded))
    report.probes_by_region = dict(Counter(r.region for r in records if r.origin == "send-request"))
    foreign = [r for r in forwarded if r.foreign]
    report.ownership_errors = len(foreign)
    report.ownership_details = [
        f"{r.method} {r.path} reached {r.region}, owner {r.owner}" for r in foreign
    ]
    with apim.lock:
        stats = dict(apim.stats)
        report.unsupported = list(apim.unsupported)
        report.failovers = dict(apim.failovers)
        report.forbidden_failovers = list(apim.forbidden_failovers)
        report.upload_body_reads = apim.upload_body_reads
    report.requests = sum(s.requests for s in stats.values())
    report.affinity = {
        "hits": sum(s.hits for s in stats.values()),
        "misses": sum(s.misses for s in stats.values()),
        "repairs": sum(s.repairs for s in stats.values()),
        "records": sum(s.stores - s.repairs for s in stats.values()),
    }
    for kind, s in stats.items():
        n = max(s.requests, 1)
        report.cache_ops_per_request[kind] = {
            "requests": s.requests,
            "lookups": s.lookups,
            "stores": s.stores,
            "removes": s.removes,
            "misses": s.misses,
            "lookups_per_request": round(s.lookups / n, 3),
            "stores_per_request": round(s.stores / n, 3),
            "removes_per_request": round(s.removes / n, 3),
            "max_lookups": s.max_lookups,
        }
    report.cache_unavailable = apim.cache.unavailable
    return report
