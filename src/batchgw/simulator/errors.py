"""Errors of the policy simulator.

Two kinds matter. `UnsupportedPolicyError` means the interpreter met something outside the
subset it models: it stops the simulation loudly instead of guessing. `CSharpError` is a C#
exception raised by a policy expression at run time (null reference, bad cast, missing key);
APIM turns those into a jump to `on-error`, and so does the simulator.
"""

from __future__ import annotations

from batchgw.errors import BatchgwError


class UnsupportedPolicyError(Exception):
    """A policy element, attribute or C# construct the simulator does not model."""

    def __init__(self, message: str, *, element: str = "", expression: str = "") -> None:
        parts = [message]
        if element:
            parts.append(f"in <{element}>")
        if expression:
            parts.append(f"expression: {expression}")
        super().__init__("; ".join(parts))
        self.element = element
        self.expression = expression

    def located(self, element: str, expression: str) -> UnsupportedPolicyError:
        """The same error, naming the element and expression when it did not yet."""
        if self.element and self.expression:
            return self
        return UnsupportedPolicyError(
            str(self).split("; ")[0],
            element=self.element or element,
            expression=self.expression or expression,
        )


class CSharpError(Exception):
    """A .NET exception thrown while a policy expression runs (caught by try/catch or on-error)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


class PolicyError(Exception):
    """An error that sends the pipeline to `on-error` (what APIM records in context.LastError)."""

    def __init__(self, source: str, reason: str, message: str) -> None:
        super().__init__(f"{source}: {reason}: {message}")
        self.source = source
        self.reason = reason
        self.message = message


class RedisUnavailableError(BatchgwError):
    """No Redis to run against: no --redis-url and no redis-server binary on PATH."""

    code = "redis"

    def __init__(self, message: str = "no redis-server binary found on PATH") -> None:
        super().__init__(
            message,
            "install it (`apt-get install redis-server`) or pass --redis-url redis://host:port",
        )
