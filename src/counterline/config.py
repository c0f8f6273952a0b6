"""Settings, read from environment variables (COUNTERLINE_*) and an optional TOML file.

Precedence: explicit arguments (CLI flags) > environment > config file > defaults.
The config file is `$COUNTERLINE_CONFIG` or `<data dir>/counterline.toml`.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


DATABASE_POOL_SIZE = 10
DATABASE_MAX_OVERFLOW = 20


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNTERLINE_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    # PostgreSQL connections each process may hold: the pool, and how many more it opens at
    # a peak. Every node's pool_size + max_overflow together must stay under the server's
    # max_connections (docs/deploy.md); SQLite ignores both.
    database_pool_size: int = Field(default=DATABASE_POOL_SIZE, ge=1)
    database_max_overflow: int = Field(default=DATABASE_MAX_OVERFLOW, ge=0)
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    time_zone: str = "Asia/Shanghai"
    default_language: str = "zh_CN"
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    secure_cookies: bool = False
    session_idle_minutes: int = 12 * 60
    session_absolute_hours: int = 7 * 24
    presence_grace_seconds: float = 5.0
    heartbeat_timeout_seconds: float = 45.0
    # The browser pings this often and reconnects when a ping is unanswered this long; keep
    # heartbeat_timeout_seconds (the server's idle sweep) several pings above.
    client_ping_seconds: float = Field(default=10.0, gt=0)
    client_pong_timeout_seconds: float = Field(default=5.0, gt=0)
    max_queued_writes: int = 500
    node_heartbeat_seconds: float = 10.0
    node_dead_after_seconds: float = 30.0
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    public_origin: str = ""
    max_streams_per_user: int = Field(default=20, ge=1)
    max_request_body_bytes: int = Field(default=1 << 20, ge=1024)
    request_body_timeout_seconds: float = Field(default=30.0, gt=0)
    access_poll_seconds: float = Field(default=1.0, gt=0)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    job_batch_size: int = Field(default=10, ge=1)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=10, ge=1)
    job_retry_seconds: float = Field(default=10.0, ge=0)
    # Authors may edit or delete their own messages this long after posting (admins always).
    message_edit_minutes: float = Field(default=15.0, ge=0)
    max_upload_bytes: int = Field(default=10 << 20, ge=1024)
    # Where uploaded files are kept (content-addressed); default: <data dir>/uploads.
    uploads_dir: Path | None = None
    # Intranet hosts whose page titles the server may fetch to preview links in messages
    # ("oa.example.local", or ".example.local" for every host under it). Empty: no previews.
    link_preview_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Each incoming webhook (hooks/) posts at most this many messages a second, in bursts of
    # up to hook_burst; beyond that it is answered 429 with Retry-After. Per process.
    hook_posts_per_second: float = Field(default=10.0, gt=0)
    hook_burst: int = Field(default=20, ge=1)
    # Automatic notice reminders (notices/tasks.py) to everyone not done yet, this many hours
    # before and after a notice's due date; 0 turns one off.
    notice_remind_hours_before: float = Field(default=24.0, ge=0, le=24 * 365)
    notice_remind_hours_after: float = Field(default=24.0, ge=0, le=24 * 365)
    # The portal (portal/) checks each active web system's address this often, waiting at
    # most portal_check_timeout_seconds for an answer; slower than portal_slow_ms: "slow".
    portal_check_seconds: float = Field(default=300.0, gt=0)
    portal_check_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    portal_slow_ms: int = Field(default=1500, ge=1)
    # The garbage collector while serving (ops/collector.py): freeze what start-up made,
    # collect the youngest generation every gc_threshold allocations (Python: 700), and
    # freeze what survives each full collection (gc_refreeze). Off: Python's defaults.
    gc_tuning: bool = True
    gc_threshold: int = Field(default=50_000, ge=1)
    gc_refreeze: bool = True
    # The hottest reads (a page of history, the room list) on SQLite through a synchronous
    # connection and answered before FastAPI routes them (quick_reads, web/quick_routes).
    quick_reads: bool = True
    # uvicorn's line per request on stderr (`counterline serve`). Off by default: nginx keeps
    # an access log already, and writing one costs every request CPU (bench/README.md).
    access_log: bool = False
    # Extra modules whose `jobs` (a JobSet) the runner also runs: plug-ins, test kinds.
    task_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator(
        "trusted_proxies", "allowed_origins", "task_modules", "link_preview_hosts", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("default_language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        if value not in ("zh_CN", "en"):
            raise ValueError("default_language must be zh_CN or en")
        return value

    @field_validator("public_origin")
    @classmethod
    def _bare_origin(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("public_origin must look like https://chat.example.com")
        return f"{parts.scheme}://{parts.netloc}".lower()

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'counterline.db').resolve()}"

    @property
    def effective_uploads_dir(self) -> Path:
        return (self.uploads_dir or self.data_dir / "uploads").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def trusted_proxy_networks(self) -> list[IPNetwork]:
        return [ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies]


def load_settings(**overrides: Any) -> Settings:
    """Build settings from file, environment and explicit overrides (None values ignored)."""
    overrides = {key: value for key, value in overrides.items() if value is not None}
    data_dir = Path(overrides.get("data_dir") or os.environ.get("COUNTERLINE_DATA_DIR", "data"))
    config_path = Path(os.environ.get("COUNTERLINE_CONFIG", data_dir / "counterline.toml"))
    from_file: dict[str, Any] = {}
    if config_path.is_file():
        with config_path.open("rb") as handle:
            from_file = tomllib.load(handle)
    env_keys = {
        name for name in Settings.model_fields if f"COUNTERLINE_{name.upper()}" in os.environ
    }
    file_values = {key: value for key, value in from_file.items() if key not in env_keys}
    return Settings(**{**file_values, **overrides})
