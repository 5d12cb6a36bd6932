"""azure-core plumbing for tests: a transport that never sleeps and a fixed token."""

from __future__ import annotations

import time

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions
from azure.core.pipeline.transport import RequestsTransport

_TOKEN_LIFETIME_SECONDS = 3600


# mypy sees azure-core's RequestsTransport as Any (its stubs do not type the base class).
class NoSleepTransport(RequestsTransport):  # type: ignore[misc]
    """RequestsTransport whose sleep() records the wait and returns at once.

    azure-core routes every retry back-off and LRO polling delay through transport.sleep, so
    Retry-After is honoured (and assertable) while a run takes milliseconds.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.sleeps: list[float] = []

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)


class StaticToken:
    """A TokenCredential (and SupportsTokenInfo) returning one fixed bearer token."""

    def __init__(self, token: str = "fake-arm-token") -> None:
        self._token = token

    def _expires_on(self) -> int:
        return int(time.time()) + _TOKEN_LIFETIME_SECONDS

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: object,
    ) -> AccessToken:
        return AccessToken(self._token, self._expires_on())

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, self._expires_on())
