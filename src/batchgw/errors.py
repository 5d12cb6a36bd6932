"""Errors a user can act on. Each carries one line of what is wrong and one of what to do."""

from __future__ import annotations


class BatchgwError(Exception):
    exit_code = 1
    code = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(BatchgwError):
    code = "config"

    def __init__(self, message: str, hint: str = "", *, details: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.details = details


class AzureCallError(BatchgwError):
    code = "azure"

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        step: str = "",
        resource_id: str = "",
        status_code: int | None = None,
        arm_code: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.step = step
        self.resource_id = resource_id
        self.status_code = status_code
        self.arm_code = arm_code


class UnsafePlanError(BatchgwError):
    code = "unsafe_plan"


class BlockedChangeError(BatchgwError):
    code = "blocked_change"


class NotConfirmedError(BatchgwError):
    code = "not_confirmed"


HINTS = {
    "AuthenticationFailed": "run `az login` (or another DefaultAzureCredential source) and retry",
    "InvalidAuthenticationToken": "run `az login` again; the token was rejected",
    "ExpiredAuthenticationToken": "run `az login` again; the token expired",
    "AuthorizationFailed": "ask for Contributor and User Access Administrator (or Owner) on the "
    "resource group and the foundry accounts",
    "MissingSubscriptionRegistration": "register it: `az provider register -n {namespace}`",
    "ServiceAlreadyExistsInSoftDeletedState": "run `batchgw teardown --purge`, or pick another "
    "`environment`",
    "ServiceNameNotAvailable": "the name is taken in Azure; pick another `environment`",
    "NameNotAvailable": "the name is taken in Azure; pick another `environment`",
    "SubscriptionNotFound": "check `subscription_id` (az account list -o table)",
    "ResourceGroupNotFound": "check the resource group name in the config",
    "RequestDisallowedByPolicy": "an Azure Policy blocks this; ask the subscription owner",
    "InvalidRequestContent": "this is a batchgw bug; rerun with --debug and report it",
}


def not_signed_in() -> BatchgwError:
    return BatchgwError(
        "not signed in to Azure: no credential source gave a token",
        "run `az login` (or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, "
        "or BATCHGW_ARM_TOKEN)",
    )


def from_http_error(
    exc: Exception, *, step: str, resource_id: str, action: str
) -> AzureCallError | BatchgwError:
    """Turn an azure-core HttpResponseError into one line and a hint (never the SDK's str())."""
    status = getattr(exc, "status_code", None)
    if type(exc).__name__ == "ClientAuthenticationError" and status is None:
        return not_signed_in()
    error = getattr(exc, "error", None)
    code = str(getattr(error, "code", "") or "") if error is not None else ""
    message = str(getattr(error, "message", "") or "") if error is not None else ""
    if not code and status == 404:
        code = "NotFound"
    if not message:
        reason = getattr(exc, "reason", "") or ""
        message = f"HTTP {status} {reason}".strip()
    first_line = message.strip().splitlines()[0] if message.strip() else code
    hint = HINTS.get(code, "")
    if code == "MissingSubscriptionRegistration":
        namespace = resource_id.split("/providers/")[-1].split("/")[0] or "the provider"
        hint = hint.format(namespace=namespace)
    if not hint and status in (401, 403):
        hint = HINTS["AuthorizationFailed"] if status == 403 else HINTS["AuthenticationFailed"]
    if not hint:
        hint = "fix the cause and run the command again; it continues where it stopped"
    name = resource_id.rstrip("/").split("/")[-1] if resource_id else step
    return AzureCallError(
        f"{action} `{name}` failed: {code or status}: {first_line}",
        hint,
        step=step,
        resource_id=resource_id,
        status_code=status,
        arm_code=code,
    )
