from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.fakes_tests.helpers import RG, create_rg, fake_env


def test_429_is_retried_after_retry_after() -> None:
    with fake_env() as env:
        env.fake.fail_next(
            "PUT", "/resourcegroups/", status=429, code="TooManyRequests", retry_after=0.5, times=2
        )
        create_rg(env)
        assert env.clients.transport.sleeps == [0.5, 0.5]
        assert [c.status for c in env.fake.calls] == [429, 429, 201]


def test_fail_next_gives_an_arm_error() -> None:
    with fake_env() as env:
        env.fake.fail_next(
            "GET", "/resourcegroups/rg-test$", status=403, code="AuthorizationFailed"
        )
        with pytest.raises(HttpResponseError) as info:
            env.clients.resources.resource_groups.get(RG)
        assert info.value.error is not None and info.value.error.code == "AuthorizationFailed"


def test_throttle_every_nth_request() -> None:
    with fake_env() as env:
        env.fake.throttle_every(2)
        create_rg(env)
        env.clients.resources.resource_groups.get(RG)
        assert [c.status for c in env.fake.calls] == [201, 429, 200]
        assert env.clients.transport.sleeps == [0.01]


def test_unknown_path_is_loud() -> None:
    with fake_env() as env:
        status, _headers, body = env.fake.handle(
            "GET",
            "https://management.azure.com/subscriptions/s/providers/Microsoft.Nope/x/y",
            {},
            None,
        )
        assert status == 404
        assert b"NoRegisteredProviderFound" in body
        assert env.fake.spec_violations


def test_writes_exclude_reads_and_list_keys() -> None:
    with fake_env() as env:
        create_rg(env)
        env.clients.resources.resource_groups.get(RG)
        assert [c.method for c in env.fake.writes()] == ["PUT"]
