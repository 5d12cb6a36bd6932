"""The step graph: read everything at once, plan, then run each step once its inputs exist."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from batchgw import naming
from batchgw.errors import ConfigError, UnsafePlanError
from batchgw.model import Desired, Foundry, build_desired, offline_foundries
from batchgw.plan import Change, Plan
from batchgw.steps import GRAPH, STEPS
from batchgw.steps.apim import ApimObserved
from batchgw.steps.apis import API_IDS, ApiObserved, ApisObserved
from batchgw.steps.backends import BackendsObserved
from batchgw.steps.base import Ctx, Reporter, guarded, ignore_event, not_found
from batchgw.steps.cache import CacheObserved
from batchgw.steps.redis import RedisObserved
from batchgw.steps.resource_group import GroupObserved
from batchgw.steps.roles import RolesObserved, stale_scopes

if TYPE_CHECKING:
    from batchgw.azure import AzureClients
    from batchgw.config import Settings

STEP_BY_NAME = {step.name: step for step in STEPS}


@dataclass(frozen=True)
class Snapshot:
    """Everything read from Azure for one plan: the desired state and each step's observation."""

    desired: Desired
    observed: dict[str, object]
    known: dict[str, object]
    plan: Plan


def make_ctx(
    settings: Settings,
    clients: AzureClients,
    desired: Desired,
    report: Reporter,
    sleep: Callable[[float], None],
) -> Ctx:
    return Ctx(
        clients=clients,
        desired=desired,
        arm_endpoint=settings.arm_endpoint,
        report=report,
        sleep=sleep,
    )


def discover_foundries(settings: Settings, clients: AzureClients) -> tuple[Foundry, ...]:
    """Read each foundry account's region and endpoint. Nothing about them is ever written."""
    from azure.core.exceptions import HttpResponseError

    def read(entry: Foundry) -> Foundry:
        ops = clients.cognitive(entry.subscription_id).accounts
        try:
            account = ops.get(entry.resource_group, entry.name)
        except HttpResponseError as exc:
            if not_found(exc):
                raise ConfigError(
                    f"foundry `{entry.name}` not found in resource group `{entry.resource_group}` "
                    f"(subscription {entry.subscription_id})",
                    "check the [[foundries]] name, resource_group and subscription_id",
                ) from exc
            if exc.status_code == 403:
                raise ConfigError(
                    f"foundry `{entry.name}`: no permission to read the account",
                    "ask for Reader (and User Access Administrator) on the foundry account",
                ) from exc
            raise
        props = account.properties
        endpoints = dict(getattr(props, "endpoints", None) or {})
        endpoint = endpoints.get("OpenAI Language Model Instance API") or getattr(
            props, "endpoint", ""
        )
        if not endpoint:
            raise ConfigError(
                f"foundry `{entry.name}` has no OpenAI endpoint",
                "use an Azure OpenAI or AI Foundry (AIServices) account",
            )
        endpoint = str(endpoint) if str(endpoint).endswith("/") else f"{endpoint}/"
        return replace(
            entry, location=str(account.location).replace(" ", "").lower(), endpoint=endpoint
        )

    hints = offline_foundries(settings)
    with ThreadPoolExecutor(max_workers=max(1, len(hints))) as pool:
        return tuple(pool.map(lambda entry: _guard_read(read, entry), hints))


def _guard_read(read: Callable[[Foundry], Foundry], entry: Foundry) -> Foundry:
    return guarded("discover", entry.id, "reading foundry", lambda: read(entry))


def hint_warnings(settings: Settings, foundries: tuple[Foundry, ...]) -> tuple[str, ...]:
    warnings = []
    for entry, found in zip(settings.foundries, foundries, strict=True):
        if entry.region and entry.region != found.location:
            warnings.append(
                f"foundry `{entry.name}`: config says region {entry.region}, "
                f"Azure says {found.location}"
            )
        if (
            entry.endpoint
            and isinstance(found.endpoint, str)
            and entry.endpoint.lower() != found.endpoint.lower()
        ):
            warnings.append(
                f"foundry `{entry.name}`: config says endpoint {entry.endpoint}, "
                f"Azure says {found.endpoint}"
            )
    return tuple(warnings)


def base_known(settings: Settings) -> dict[str, object]:
    return {"arm_endpoint": settings.arm_endpoint}


def read_state(
    settings: Settings,
    clients: AzureClients,
    *,
    report: Reporter = ignore_event,
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """One round of concurrent reads (plus one more only when removed foundries need it)."""
    names_only = build_desired(settings, offline_foundries(settings))
    ctx = make_ctx(settings, clients, names_only, report, sleep)
    steps = list(STEPS)
    with ThreadPoolExecutor(max_workers=len(steps) + 1) as pool:
        found_future = pool.submit(discover_foundries, settings, clients)
        futures = {s.reads: pool.submit(s.read, ctx, {}) for s in steps if s.reads == s.name}
        observed: dict[str, object] = {s.name: futures[s.reads].result() for s in steps}
        foundries = found_future.result()
    desired = build_desired(settings, foundries)
    known = base_known(settings)
    for step in STEPS:
        known.update(step.outputs(observed[step.name]))
    stale = stale_scopes(observed["ensure_backends"], desired)
    if stale:
        known["stale_foundry_scopes"] = stale
        roles = STEP_BY_NAME["grant_roles"]
        observed["grant_roles"] = roles.read(replace(ctx, desired=desired), known)
    changes: list[Change] = []
    for step in STEPS:
        changes.extend(step.diff(desired, observed[step.name], known))
    plan = Plan(changes=tuple(changes), warnings=hint_warnings(settings, foundries))
    return Snapshot(desired=desired, observed=observed, known=known, plan=plan)


def offline_plan(settings: Settings) -> Snapshot:
    """The plan as if nothing existed yet, from config alone: no network."""
    desired = build_desired(settings, offline_foundries(settings))
    role_guid = naming.known_role_guid(settings.access.role) or settings.access.role
    observed: dict[str, object] = {
        "resource_group": GroupObserved(exists=False),
        "ensure_redis": RedisObserved(None, None, None, ""),
        "ensure_apim": ApimObserved(fields=None),
        "ensure_backends": BackendsObserved(apim_exists=False, backends={}),
        "prune_backends": BackendsObserved(apim_exists=False, backends={}),
        "link_cache": CacheObserved(None),
        "grant_roles": RolesObserved(role_guid=role_guid, assignments=()),
        "ensure_apis": ApisObserved({api_id: ApiObserved(None, {}, None) for api_id in API_IDS}),
    }
    known = base_known(settings)
    changes: list[Change] = []
    for step in STEPS:
        changes.extend(step.diff(desired, observed[step.name], known))
    return Snapshot(
        desired=desired, observed=observed, known=known, plan=Plan(changes=tuple(changes))
    )


def apply_plan(
    settings: Settings,
    clients: AzureClients,
    snapshot: Snapshot,
    *,
    report: Reporter = ignore_event,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, object]:
    """Run each step once everything it needs is done; independent steps run at the same time."""
    ctx = make_ctx(settings, clients, snapshot.desired, report, sleep)
    known: dict[str, object] = dict(snapshot.known)
    lock = threading.Lock()
    done: set[str] = set()
    errors: list[BaseException] = []

    def run(name: str) -> None:
        step = STEP_BY_NAME[name]
        planned = snapshot.plan.for_step(name)
        with lock:
            inputs = dict(known)
        if not planned:
            settle = getattr(step, "settle", None)
            observed = snapshot.observed[name]
            outputs = settle(ctx, observed) if settle else step.outputs(observed)
        else:
            fresh = step.read(ctx, inputs)
            again = step.diff(snapshot.desired, fresh, inputs)
            _check_same(name, planned, again)
            outputs = step.apply(ctx, fresh, inputs)
        with lock:
            known.update({k: v for k, v in outputs.items() if v not in ("", None)} or {})

    pending = dict(GRAPH)
    running: dict[Future[None], str] = {}
    with ThreadPoolExecutor(max_workers=len(GRAPH)) as pool:
        while pending or running:
            if not errors:
                for name, needs in list(pending.items()):
                    if all(n in done for n in needs):
                        running[pool.submit(run, name)] = name
                        del pending[name]
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                error = future.exception()
                if error is not None:
                    errors.append(error)
                else:
                    done.add(name)
    if errors:
        raise errors[0]
    return known


def _check_same(name: str, planned: tuple[Change, ...], again: list[Change]) -> None:
    shown = {(c.action, c.type.lower(), c.name.lower()) for c in planned}
    extra = [c for c in again if (c.action, c.type.lower(), c.name.lower()) not in shown]
    if extra:
        first = extra[0]
        raise UnsafePlanError(
            f"{name}: Azure changed since the plan was shown "
            f"({first.action} {first.name} was not in it)",
            "run `batchgw plan` again and review it",
        )
