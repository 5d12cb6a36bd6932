"""The deploy steps and the graph they form (step -> the steps it needs)."""

from __future__ import annotations

from batchgw.steps.apim import ApimStep
from batchgw.steps.apis import ApisStep
from batchgw.steps.backends import BackendsStep, PruneBackendsStep
from batchgw.steps.base import Step
from batchgw.steps.cache import CacheStep
from batchgw.steps.redis import RedisStep
from batchgw.steps.resource_group import ResourceGroupStep
from batchgw.steps.roles import RolesStep

STEPS: tuple[Step, ...] = (
    ResourceGroupStep(),
    RedisStep(),
    ApimStep(),
    BackendsStep(),
    CacheStep(),
    RolesStep(),
    ApisStep(),
    PruneBackendsStep(),
)
GRAPH = {step.name: step.needs for step in STEPS}
