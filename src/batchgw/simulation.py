"""`batchgw simulate`: run the rendered policies locally and report (glue for the CLI)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from batchgw.errors import BatchgwError

if TYPE_CHECKING:
    from batchgw.gateway.spec import GatewaySpec


class Printer(Protocol):
    def print(self, *objects: object, **kwargs: object) -> None: ...


def _import_simulator() -> Any:
    try:
        import batchgw.simulator as simulator
    except ImportError as exc:
        raise BatchgwError(
            f"the simulator needs extra packages ({exc.name} is missing)",
            "install them with `pip install 'batchgw[simulate]'`",
        ) from None
    return simulator


def run(
    gateway: GatewaySpec,
    out: Printer,
    err: Printer,
    *,
    clients: int,
    redis_url: str | None,
    json_mode: bool,
) -> int:
    simulator = _import_simulator()
    try:
        err.print(f"Simulating {clients} clients over {len(gateway.regions)} regions...")
        report = simulator.run_scenario(gateway, clients=clients, redis_url=redis_url)
    except simulator.RedisUnavailableError as exc:
        raise BatchgwError(
            str(exc), "install redis-server (apt-get install redis-server) or pass --redis-url"
        ) from None
    if json_mode:
        from batchgw.console import print_json

        print_json(out, report.to_dict())  # type: ignore[arg-type]
    else:
        for line in report.lines():
            out.print(line, markup=False, highlight=False)
    return 0 if report.ok else 1


def serve_forever(
    gateway: GatewaySpec, out: Printer, err: Printer, *, port: int, redis_url: str | None
) -> int:
    simulator = _import_simulator()
    try:
        with simulator.serve(gateway, port=port, redis_url=redis_url) as served:
            out.print(f"Gateway: {served.url}", markup=False, highlight=False)
            out.print(
                f"Subscription key: {served.subscription_key} (local simulator only)",
                markup=False,
                highlight=False,
            )
            for name, url in served.regions.items():
                out.print(f"  region {name}: {url}", markup=False, highlight=False)
            err.print("Serving; press Ctrl-C to stop.")
            threading.Event().wait()
    except simulator.RedisUnavailableError as exc:
        raise BatchgwError(
            str(exc), "install redis-server (apt-get install redis-server) or pass --redis-url"
        ) from None
    except KeyboardInterrupt:
        err.print("Stopped.")
    return 0
