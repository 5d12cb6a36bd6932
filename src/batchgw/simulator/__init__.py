"""Policy simulator: runs the rendered APIM policies against fake regions and a real Redis.

Optional extra (`pip install batchgw[simulate]`): redis, tree-sitter and tree-sitter-c-sharp are
imported lazily, by the modules that need them, so the rest of batchgw never loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from batchgw.gateway.spec import GatewaySpec
from batchgw.simulator.errors import RedisUnavailableError, UnsupportedPolicyError
from batchgw.simulator.report import SimulationReport
from batchgw.simulator.scenario import run_scenario
from batchgw.simulator.simulation import ServedGateway, Simulation

__all__ = [
    "RedisUnavailableError",
    "ServedGateway",
    "SimulationReport",
    "UnsupportedPolicyError",
    "run_scenario",
    "serve",
]


@contextmanager
def serve(
    gateway: GatewaySpec, *, port: int = 0, redis_url: str | None = None
) -> Iterator[ServedGateway]:
    """Serve the gateway on 127.0.0.1:port until the block ends."""
    with Simulation(gateway, redis_url=redis_url, port=port) as sim:
        yield sim.served()
