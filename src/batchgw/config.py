"""Settings: a TOML file plus `BATCHGW_*` environment variables (env, then file, then defaults)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from batchgw.errors import ConfigError

DEFAULT_CONFIG = "batchgw.toml"
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
MANAGED_SKU = re.compile(
    r"^(Balanced|MemoryOptimized|ComputeOptimized|FlashOptimized)_[A-Z]\d+$|^Enterprise(Flash)?_[EF]\d+$"
)
CLASSIC_SKUS = ("Basic", "Standard", "Premium")
ApimSku = Literal["Developer", "Basic", "Standard", "Premium", "BasicV2", "StandardV2"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApimSettings(Section):
    sku: ApimSku = "Developer"
    capacity: int = Field(default=1, ge=1, le=12)

    @model_validator(mode="after")
    def _check_capacity(self) -> ApimSettings:
        if self.sku == "Developer" and self.capacity != 1:
            raise ValueError("the Developer tier has exactly one unit: set capacity = 1")
        if self.sku.endswith("V2") and self.capacity > 10:
            raise ValueError(f"{self.sku} scales to at most 10 units")
        return self


class RedisSettings(Section):
    kind: Literal["managed", "classic"] = "managed"
    sku: str | None = None
    family: Literal["C", "P"] | None = None
    capacity: int | None = Field(default=None, ge=0, le=6)

    @model_validator(mode="after")
    def _check_sku(self) -> RedisSettings:
        if self.kind == "managed":
            sku = self.sku or "Balanced_B0"
            if not MANAGED_SKU.match(sku):
                raise ValueError(f"`{sku}` is not an Azure Managed Redis SKU (e.g. Balanced_B0)")
            if self.family is not None or self.capacity is not None:
                raise ValueError('family and capacity apply only to kind = "classic"')
            object.__setattr__(self, "sku", sku)
            return self
        sku = self.sku or "Standard"
        if sku not in CLASSIC_SKUS:
            raise ValueError(
                f"classic Redis sku must be one of {', '.join(CLASSIC_SKUS)}, not `{sku}`"
            )
        family = self.family or ("P" if sku == "Premium" else "C")
        if (family == "P") != (sku == "Premium"):
            raise ValueError(
                f"family `{family}` does not fit sku `{sku}` (Premium uses P, others C)"
            )
        capacity = 1 if self.capacity is None else self.capacity
        if sku == "Premium" and capacity < 1:
            raise ValueError("Premium capacity starts at 1")
        for field, value in (("sku", sku), ("family", family), ("capacity", capacity)):
            object.__setattr__(self, field, value)
        return self


class AffinitySettings(Section):
    ttl_seconds: int = Field(default=2_592_000, ge=60, le=31_536_000)


class AccessSettings(Section):
    role: str = Field(default="Cognitive Services OpenAI User", min_length=1)


class FoundrySettings(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
    resource_group: str = Field(min_length=1, max_length=90)
    subscription_id: str | None = None
    weight: int = Field(default=1, ge=1, le=1000)
    priority: int = Field(default=1, ge=1, le=100)
    region: str | None = None
    endpoint: str | None = None

    @field_validator("subscription_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not GUID.match(value):
            raise ValueError("must be a subscription GUID")
        return value

    @field_validator("endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value if value is None or value.endswith("/") else value + "/"

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else value.replace(" ", "").lower()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BATCHGW_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    subscription_id: str
    environment: str = Field(pattern=r"^[a-z0-9]{1,10}$")
    location: str = Field(min_length=1)
    resource_group: str = ""
    publisher_name: str = Field(min_length=1, max_length=100)
    publisher_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    apim: ApimSettings = ApimSettings()
    redis: RedisSettings = RedisSettings()
    affinity: AffinitySettings = AffinitySettings()
    access: AccessSettings = AccessSettings()
    foundries: list[FoundrySettings] = Field(min_length=1)

    @field_validator("subscription_id")
    @classmethod
    def _subscription(cls, value: str) -> str:
        if not GUID.match(value):
            raise ValueError("must be a subscription GUID (az account show --query id)")
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        return value.replace(" ", "").lower()

    @field_validator("arm_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL (TLS is never disabled)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        seen: set[tuple[str, str, str]] = set()
        for foundry in self.foundries:
            key = (
                (foundry.subscription_id or self.subscription_id).lower(),
                foundry.resource_group.lower(),
                foundry.name.lower(),
            )
            if key in seen:
                raise ValueError(f"foundry `{foundry.name}` is listed twice")
            seen.add(key)
        if not self.resource_group:
            object.__setattr__(self, "resource_group", f"rg-apim-{self.environment}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: it beats the file (given as init kwargs), which beats defaults.
        return (env_settings, init_settings)


def config_path(path: str | Path | None) -> Path:
    return Path(path or os.environ.get("BATCHGW_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the TOML file and the environment; raise ConfigError naming each bad field."""
    file = config_path(path)
    data = _read_toml(file)
    try:
        return _build(data)
    except ValidationError as exc:
        details = tuple(_describe(error) for error in exc.errors())
        raise ConfigError(
            f"{file}: {len(details)} invalid setting{'s' if len(details) > 1 else ''}",
            "fix the file (see config.example.toml) or the BATCHGW_* variables, then run again",
            details=details,
        ) from None


def _build(data: dict[str, Any]) -> Settings:
    return Settings(**data)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"config file `{file}` not found",
            "copy config.example.toml to batchgw.toml, or pass -c PATH / set BATCHGW_CONFIG",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: not valid TOML ({exc})", "fix the syntax and run again"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read `{file}`: {exc.strerror}", "check the path") from None


PATTERN_MESSAGES = {
    "environment": "must be 1 to 10 lowercase letters or digits (it is part of resource names)",
    "publisher_email": "must be an email address",
    "name": "must be the foundry account name (letters, digits, '-', '_', '.')",
}


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    kind = error.get("type", "")
    last = str(error.get("loc", ("",))[-1]) if error.get("loc") else ""
    if kind == "string_pattern_mismatch" and last in PATTERN_MESSAGES:
        message = PATTERN_MESSAGES[last]
    elif kind == "missing":
        message = "required but missing"
    elif kind == "extra_forbidden":
        message = "unknown key (check the spelling against config.example.toml)"
    else:
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message
