"""Settings as an operator writes them: environment variables and the TOML file."""

from __future__ import annotations

import pytest

from counterline.config import load_settings


def test_comma_separated_lists_in_the_environment_are_read_as_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COUNTERLINE_TRUSTED_PROXIES", "10.0.0.5/32, 10.0.0.6/32")
    monkeypatch.setenv("COUNTERLINE_ALLOWED_ORIGINS", "https://chat.example.com")
    settings = load_settings()
    assert settings.trusted_proxies == ["10.0.0.5/32", "10.0.0.6/32"]
    assert settings.allowed_origins == ["https://chat.example.com"]
    assert len(settings.trusted_proxy_networks) == 2
