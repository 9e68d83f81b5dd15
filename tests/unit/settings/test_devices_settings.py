"""Device recognition settings: the cookie key (env or file, ≥32 bytes) and the remembered-device lifetime."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import Settings, SettingsError

KEY = "0123456789abcdef0123456789abcdef"  # exactly 32 bytes


def test_device_recognition_is_off_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.device_cookie_key == "" and not settings.device_recognition


def test_device_key_is_read_from_the_environment() -> None:
    assert Settings.from_env({"BACKUP_CODES_DEVICE_COOKIE_KEY": KEY}).device_cookie_key == KEY


def test_device_key_is_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "device-key"
    secret.write_text(KEY + "\n", encoding="utf-8")
    settings = Settings.from_env({"BACKUP_CODES_DEVICE_COOKIE_KEY_FILE": str(secret)})
    assert settings.device_cookie_key == KEY and settings.device_recognition


def test_device_key_shorter_than_32_bytes_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError, match="DEVICE_COOKIE_KEY must be at least 32 bytes") as caught:
        Settings.from_env({"BACKUP_CODES_DEVICE_COOKIE_KEY": "too-short-secret"})
    assert "too-short-secret" not in str(caught.value)


def test_device_ttl_defaults_to_90_days() -> None:
    assert Settings.from_env({}).device_ttl_days == 90


@pytest.mark.parametrize("days", ["0", "401", "-1"])
def test_device_ttl_outside_1_to_400_days_is_refused(days: str) -> None:
    with pytest.raises(SettingsError, match="DEVICE_TTL_DAYS"):
        Settings.from_env({"BACKUP_CODES_DEVICE_TTL_DAYS": days})


def test_negative_trusted_proxies_is_refused() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"BACKUP_CODES_TRUSTED_PROXIES": "-1"})
