"""Typed settings from the environment (and an optional .env file).

Every variable is documented in the README's configuration table. A malformed value stops
start-up with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_seeds_dir() -> Path:
    """The project's own seeds/ (source checkout), else ./seeds."""
    candidate = PROJECT_ROOT / "seeds"
    return candidate if candidate.is_dir() else Path.cwd() / "seeds"


def default_data_dir() -> Path:
    """The user's data directory (platformdirs: ~/.local/share/briefbot on Linux), not a
    data/ in whatever folder a command happens to run in. The image sets /app/data."""
    from platformdirs import user_data_path

    return user_data_path("briefbot", appauthor=False)


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


_PLATFORM_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    seeds_dir: Path = Field(
        default_factory=default_seeds_dir, validation_alias="BRIEFBOT_SEEDS_DIR"
    )
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="BRIEFBOT_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="BRIEFBOT_ADMINS"
    )
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="BRIEFBOT_FETCH_ALLOW_HOSTS"
    )
    feed_interval_minutes: int = Field(
        default=30, ge=1, le=7 * 24 * 60, validation_alias="BRIEFBOT_FEED_INTERVAL_MINUTES"
    )
    platforms: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="BRIEFBOT_PLATFORMS"
    )
    # loopback unless asked: a server on a laptop is not on the network by accident (the
    # image sets 0.0.0.0, where the container's network is the boundary)
    host: str = Field(default="127.0.0.1", validation_alias="BRIEFBOT_HOST")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="BRIEFBOT_PORT")
    default_timezone: str = Field(default="UTC", validation_alias="BRIEFBOT_DEFAULT_TZ")
    log_json: bool = Field(default=False, validation_alias="BRIEFBOT_LOG_JSON")
    log_level: str = Field(default="INFO", validation_alias="BRIEFBOT_LOG_LEVEL")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias="SLACK_API_URL"
    )

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_api_url: str = Field(
        default="https://discord.com/api/v10", validation_alias="DISCORD_API_URL"
    )
    discord_gateway_url: str | None = Field(default=None, validation_alias="DISCORD_GATEWAY_URL")

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            for item in items:
                platform, _, user = item.partition(":")
                if not _PLATFORM_NAME.fullmatch(platform) or not user:
                    raise ValueError(
                        f"entries must look like slack:U123 or discord:456, got {item!r}"
                    )
            return items
        return value

    @field_validator("platforms", mode="before")
    @classmethod
    def _split_platforms(cls, value: object) -> object:
        if isinstance(value, str):
            items = [item.strip().lower() for item in value.split(",") if item.strip()]
            for item in items:
                if not _PLATFORM_NAME.fullmatch(item):
                    raise ValueError(f"entries are platform names like slack or discord, "
                                     f"got {item!r}")
            return items
        return value

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            for item in items:
                if "/" in item or " " in item:
                    raise ValueError(f"entries are host names or addresses, got {item!r}")
            return items
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (try Europe/Berlin)") from exc
        return value

    @field_validator("slack_api_url", "discord_api_url", "discord_gateway_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError(f"must be an http(s):// or ws(s):// URL, got {value!r}")
        return value

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(self.admins)

    @property
    def cache_dir(self) -> Path:
        """Where the engine keeps sentence vectors and built indexes (rebuilt when missing)."""
        return self.data_dir / "cache"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'briefbot.db'}"


_ALIASES = {
    name: (field.validation_alias if isinstance(field.validation_alias, str) else name)
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a validation error into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else "?"
        variable = _ALIASES.get(loc, loc)
        raise SettingsError(f"{variable}: {err['msg']} (got {err.get('input')!r})") from None


__all__ = ["Settings", "SettingsError", "load_settings"]
