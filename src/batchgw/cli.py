"""The batchgw command line: parse options, call the engine, render, return an exit code."""

# No `from __future__ import annotations`: Typer reads the annotations at run time.

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from batchgw.errors import BatchgwError, NotConfirmedError

app = typer.Typer(
    name="batchgw",
    help="Deploy and run a multi-region Azure API Management gateway for Azure OpenAI batch "
    "and realtime traffic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigOpt = Annotated[
    Optional[Path],  # noqa: UP045 - Typer needs Optional here
    typer.Option(
        "--config",
        "-c",
        help="Config file (default ./batchgw.toml, env BATCHGW_CONFIG).",
        show_default=False,
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and SDK logging.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


class Options:
    """Options accepted both before and after the command name; the later one wins."""

    def __init__(self) -> None:
        self.config: Path | None = None
        self.debug = False


GLOBAL = Options()


@app.callback()
def root(config: ConfigOpt = None, debug: DebugOpt = False) -> None:
    GLOBAL.config = config
    GLOBAL.debug = debug


def _setup(config: Path | None, debug: bool) -> tuple[Any, Any, Any]:
    from batchgw.config import load_settings
    from batchgw.console import make_consoles

    GLOBAL.config = config or GLOBAL.config
    GLOBAL.debug = debug or GLOBAL.debug
    import logging

    if GLOBAL.debug:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    else:
        # The SDKs log warnings (each failed credential, each retry) that would bury the one
        # line the user needs; --debug shows them.
        logging.getLogger("azure").addHandler(logging.NullHandler())
        logging.getLogger("azure").propagate = False
    out, err = make_consoles()
    return load_settings(GLOBAL.config), out, err


def _clients(settings: Any) -> Any:
    from batchgw.azure import make_clients

    return make_clients(settings)


def plan_cmd(
    config: ConfigOpt = None,
    json: JsonOpt = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Plan as if nothing existed yet; no network.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Show what deploy would change. Writes nothing."""

    def body() -> int:
        from batchgw import console, engine, render

        settings, out, err = _setup(config, debug)
        if offline:
            snapshot = engine.offline_plan(settings)
        else:
            with err.status("Reading Azure..."):
                snapshot = engine.read_state(settings, _clients(settings))
        if json:
            console.print_json(out, render.plan_to_json(snapshot.plan))
        else:
            render.render_plan(snapshot.plan, out)
        return 2 if detailed_exitcode and snapshot.plan.has_changes else 0

    _run(body, json_mode=json)


def deploy_cmd(config: ConfigOpt = None, yes: YesOpt = False, debug: DebugOpt = False) -> None:
    """Plan, confirm, then create or update everything in Azure."""

    def body() -> int:
        from batchgw import console, endpoints, engine, render

        settings, out, err = _setup(config, debug)
        clients = _clients(settings)
        with err.status("Reading Azure..."):
            snapshot = engine.read_state(settings, clients)
        render.render_plan(snapshot.plan, out)
        known = snapshot.known
        if snapshot.plan.has_changes:
            _confirm(err, yes, "Deploy these changes?")
            with console.Progress(err) as progress:
                known = engine.apply_plan(settings, clients, snapshot, report=progress)
            err.print("Deploy complete.")
        # The plan (or the apply) has just read both endpoints: no need to ask Azure again.
        found = endpoints.from_known(known) or endpoints.read_endpoints(settings, clients)
        render.render_endpoints(found, out)
        return 0

    _run(body)


def teardown_cmd(
    config: ConfigOpt = None,
    yes: YesOpt = False,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also purge the soft-deleted API Management service.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Delete what deploy created (and nothing else)."""

    def body() -> int:
        from batchgw import console, render, teardown

        settings, out, err = _setup(config, debug)
        clients = _clients(settings)
        with err.status("Reading Azure..."):
            state = teardown.read_teardown(settings, clients, purge=purge)
        render.render_plan(state.plan, out)
        if not state.plan.has_changes:
            return 0
        _confirm(err, yes, "Delete these resources?")
        with console.Progress(err) as progress:
            notes = teardown.apply_teardown(settings, clients, state, purge=purge, report=progress)
        for note in notes:
            err.print(note)
        err.print("Teardown complete.")
        return 0

    _run(body)


def show_endpoints_cmd(
    config: ConfigOpt = None, json: JsonOpt = False, debug: DebugOpt = False
) -> None:
    """Print the gateway URLs and ready-to-run client snippets."""

    def body() -> int:
        from batchgw import console, endpoints, render

        settings, out, _err = _setup(config, debug)
        found = endpoints.read_endpoints(settings, _clients(settings))
        if json:
            console.print_json(out, render.endpoints_to_json(found))
        else:
            render.render_endpoints(found, out)
        return 0

    _run(body, json_mode=json)


def simulate_cmd(
    config: ConfigOpt = None,
    json: JsonOpt = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the gateway locally until Ctrl-C.")
    ] = False,
    clients: Annotated[
        int, typer.Option("--clients", min=1, max=500, help="Concurrent clients.")
    ] = 50,
    redis_url: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--redis-url", help="Use this Redis instead of a private redis-server."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port for --serve (0 = any free port).")] = 0,
    debug: DebugOpt = False,
) -> None:
    """Run the deployed policies against fake regions and a real Redis, and report."""

    def body() -> int:
        from batchgw import model, simulation

        settings, out, err = _setup(config, debug)
        gateway = model.simulation_gateway(settings)
        if serve:
            return simulation.serve_forever(gateway, out, err, port=port, redis_url=redis_url)
        return simulation.run(
            gateway, out, err, clients=clients, redis_url=redis_url, json_mode=json
        )

    _run(body, json_mode=json)


app.command("plan")(plan_cmd)
app.command("deploy")(deploy_cmd)
app.command("teardown")(teardown_cmd)
app.command("show-endpoints")(show_endpoints_cmd)
app.command("simulate")(simulate_cmd)


def _confirm(err: Any, yes: bool, question: str) -> None:
    from batchgw import console

    if yes:
        return
    if not console.is_interactive():
        raise NotConfirmedError(
            "not confirmed: stdin is not a terminal", "pass --yes to apply without asking"
        )
    if not console.confirm(err, question):
        raise NotConfirmedError("cancelled; nothing was changed", "")


def _run(body: Callable[[], int], *, json_mode: bool = False) -> None:
    code = _guard(body, json_mode=json_mode)
    raise typer.Exit(code)


def _guard(body: Callable[[], int], *, json_mode: bool) -> int:
    try:
        return body()
    except BatchgwError as error:
        _report(error, json_mode)
        return error.exit_code
    except KeyboardInterrupt:
        _report(BatchgwError("interrupted", "run the same command again to finish"), json_mode)
        sys.stdout.flush()
        sys.stderr.flush()
        # Worker threads may be polling a 45-minute operation; Azure carries on without us, and
        # the next run picks up where this one stopped, so there is nothing to wait for.
        os._exit(130)
    except Exception as exc:
        known = _translate(exc)
        if known is None or GLOBAL.debug:
            if GLOBAL.debug:
                raise
            known = BatchgwError(
                f"unexpected error: {type(exc).__name__}", "rerun with --debug and report it"
            )
        _report(known, json_mode)
        return known.exit_code


def _translate(exc: Exception) -> BatchgwError | None:
    """Azure SDK errors that are the user's to fix, as one line and a hint."""
    module = type(exc).__module__
    if not module.startswith("azure."):
        return None
    name = type(exc).__name__
    if name in ("ClientAuthenticationError", "CredentialUnavailableError"):
        from batchgw.errors import not_signed_in

        return not_signed_in()
    if name in ("ServiceRequestError", "ServiceRequestTimeoutError"):
        # The endpoint may come from the file or the environment; the SDK's own message would
        # repeat the URL with noise, so name the setting instead.
        return BatchgwError(
            "cannot reach Azure Resource Manager",
            "check the network, the proxy, or `arm_endpoint` (BATCHGW_ARM_ENDPOINT)",
        )
    from azure.core.exceptions import HttpResponseError

    if isinstance(exc, HttpResponseError):
        from batchgw.errors import from_http_error

        return from_http_error(exc, step="", resource_id="", action="Azure call")
    return None


def _report(error: BatchgwError, json_mode: bool) -> None:
    from batchgw import console, render

    out, err = console.make_consoles()
    if json_mode:
        console.print_json(out, render.error_to_json(error))
    console.print_error(err, error)


def main() -> None:
    app()
