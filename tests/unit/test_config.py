"""Config: TOML + BATCHGW_* env (env wins), strict keys, one line per bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchgw.config import load_settings
from batchgw.errors import ConfigError
from tests.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_example_config_loads() -> None:
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.environment == "dev"
    assert settings.redis.kind == "managed" and settings.redis.sku == "Balanced_B0"
    assert len(settings.foundries) == 2


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CONFIG))
    assert settings.resource_group == "rg-apim-dev"
    assert settings.apim.sku == "Developer"
    assert settings.affinity.ttl_seconds == 2_592_000
    assert settings.access.role == "Cognitive Services OpenAI User"
    assert settings.arm_endpoint == "https://management.azure.com"


def test_env_beats_file_beats_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, CONFIG + '\n[apim]\nsku = "Premium"\ncapacity = 2\n')
    monkeypatch.setenv("BATCHGW_APIM__SKU", "StandardV2")
    monkeypatch.setenv("BATCHGW_LOCATION", "West Europe")
    settings = load_settings(path)
    assert settings.apim.sku == "StandardV2"
    assert settings.apim.capacity == 2
    assert settings.location == "westeurope"


def test_config_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHGW_CONFIG", str(write(tmp_path, CONFIG)))
    assert load_settings(None).environment == "dev"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c.replace('environment = "dev"', 'environment = "DEV_1"'),
            "environment: must be",
        ),
        (lambda c: c + "\nsurprise = 1\n", "surprise: unknown key"),
        (lambda c: c.replace("weight = 2", "wieght = 2"), "foundries.1.wieght: unknown key"),
        (
            lambda c: c.replace('publisher_email = "admin@contoso.com"', 'publisher_email = "x"'),
            "publisher_email: must be an email address",
        ),
        (
            lambda c: c.replace(f'subscription_id = "{"0" * 8}', 'subscription_id = "zz'),
            "subscription_id: must be a subscription GUID",
        ),
        (lambda c: c.split("[[foundries]]")[0], "foundries: required but missing"),
        (lambda c: c + '\n[redis]\nkind = "classic"\nsku = "Balanced_B0"\n', "redis: "),
        (lambda c: c + '\n[redis]\nsku = "Premium"\n', "redis: "),
        (lambda c: c + '\n[apim]\nsku = "Consumption"\n', "apim.sku: "),
        (lambda c: c + "\n[apim]\ncapacity = 2\n", "apim: the Developer tier has exactly one"),
        (lambda c: 'arm_endpoint = "http://localhost"\n' + c, "arm_endpoint: must be an https"),
        (lambda c: c.replace('name = "batch-west"', 'name = "batch-east"'), "listed twice"),
    ],
)
def test_each_bad_field_is_one_line(tmp_path: Path, edit: object, expected: str) -> None:
    path = write(tmp_path, edit(CONFIG))  # type: ignore[operator]
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert any(expected in line for line in caught.value.details), caught.value.details
    assert str(path) in caught.value.message


def test_classic_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CONFIG + '\n[redis]\nkind = "classic"\n'))
    assert (settings.redis.sku, settings.redis.family, settings.redis.capacity) == (
        "Standard",
        "C",
        1,
    )


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "a = "))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")
