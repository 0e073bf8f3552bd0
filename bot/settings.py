"""One settings object, built once by the entry point and passed down (never read at import)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///ambassador.db"
Locale = Literal["en", "fr"]

_DIGEST_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smh])?$")
DAY_NAMES = (
    ("mon", "lun"),
    ("tue", "mar"),
    ("wed", "mer"),
    ("thu", "jeu"),
    ("fri", "ven"),
    ("sat", "sam"),
    ("sun", "dim"),
)


def parse_clock(text: str) -> time | None:
    """`09:00` or `9:00` as a time of day; None for anything else."""
    found = _DIGEST_TIME.match(text.strip())
    return time(int(found[1]), int(found[2])) if found else None


def parse_days(text: str) -> tuple[int, ...] | None:
    """Weekdays (Monday 0) from `mon,wed,fri`, `lun,mer,ven`, `mon-fri` or full names; None
    when a word is not a day or no day is named."""
    names = {name: index for index, pair in enumerate(DAY_NAMES) for name in pair}
    days: set[int] = set()
    for part in re.split(r"[\s,;]+", text.strip().lower()):
        if not part:
            continue
        ends = [names.get(end[:3]) for end in part.split("-")]
        first, last = ends[0], ends[-1]
        if len(ends) > 2 or first is None or last is None:
            return None
        # a range may wrap around the week end: fri-mon is Friday to Monday
        span = range(first, last + 1) if first <= last else (*range(first, 7), *range(last + 1))
        days.update(span)
    return tuple(sorted(days)) or None


def _split_ids(value: object) -> object:
    """Accept `A,B , C` from the environment as a list of ids."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every configuration name of the product (README documents each, with its default)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    microsoft_app_id: str | None = Field(None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(None, alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field("MultiTenant", alias="MICROSOFT_APP_TYPE")
    # "local": Teams with authentication OFF, for the Bot Framework Emulator on one machine.
    teams_mode: str | None = Field(None, alias="AMBASSADOR_TEAMS")

    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", alias="AMBASSADOR_LLM_MODEL", min_length=1)
    llm_timeout: float = Field(20.0, alias="AMBASSADOR_LLM_TIMEOUT", gt=0, le=600)
    llm_concurrency: int = Field(8, alias="AMBASSADOR_LLM_CONCURRENCY", ge=1, le=1_000)
    # Azure OpenAI, through the variables its own client documents; the model is the
    # deployment's name.
    azure_openai_api_key: SecretStr | None = Field(None, alias="AZURE_OPENAI_API_KEY")
    azure_openai_endpoint: str | None = Field(None, alias="AZURE_OPENAI_ENDPOINT")
    openai_api_version: str = Field("2024-10-21", alias="OPENAI_API_VERSION")

    port: int = Field(3000, alias="AMBASSADOR_PORT", ge=0, le=65535)
    host: str = Field("0.0.0.0", alias="AMBASSADOR_HOST")  # noqa: S104 - a server listens
    timezone: str = Field("Europe/Paris", alias="AMBASSADOR_TIMEZONE")
    digest_time: str = Field("09:00", alias="AMBASSADOR_DIGEST_TIME")
    digest_channel: str | None = Field(None, alias="AMBASSADOR_DIGEST_CHANNEL")
    digest_size: int = Field(5, alias="AMBASSADOR_DIGEST_SIZE", ge=1, le=10)
    digest_days: Annotated[tuple[int, ...], NoDecode] = Field(
        (0, 1, 2, 3, 4), alias="AMBASSADOR_DIGEST_DAYS"
    )
    digest_repeat_days: int = Field(7, alias="AMBASSADOR_DIGEST_REPEAT_DAYS", ge=0, le=365)
    misfire_grace: timedelta = Field(timedelta(hours=2), alias="AMBASSADOR_MISFIRE_GRACE")
    retention_days: int = Field(180, alias="AMBASSADOR_RETENTION_DAYS", ge=1, le=3650)
    charter_reminder_days: int = Field(30, alias="AMBASSADOR_CHARTER_REMINDER_DAYS", ge=1, le=3650)
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="AMBASSADOR_ADMINS")
    managers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="AMBASSADOR_MANAGERS"
    )
    locale: Locale = Field("en", alias="AMBASSADOR_LOCALE")
    company: str = Field("ACME", alias="AMBASSADOR_COMPANY", min_length=1, max_length=100)
    min_group: int = Field(5, alias="AMBASSADOR_MIN_GROUP", ge=1)
    # minutes between two polls of each feed (the scheduler polls, once across replicas)
    feed_interval: int = Field(60, alias="AMBASSADOR_FEED_INTERVAL", ge=5, le=10_080)
    # fetch pages (previews) and feeds at all; off for an installation without web access
    fetch: bool = Field(True, alias="AMBASSADOR_FETCH")
    # FOR TESTS ONLY: lets previews and feeds fetch loopback and private addresses (a local
    # test server). Never set it in production: it reopens server-side request forgery.
    fetch_allow_private: bool = Field(False, alias="AMBASSADOR_FETCH_ALLOW_PRIVATE")

    _split_admins = field_validator("admins", "managers", mode="before")(_split_ids)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "microsoft_app_id",
        "microsoft_app_password",
        "microsoft_app_tenant_id",
        "openai_api_key",
        "openai_base_url",
        "azure_openai_api_key",
        "azure_openai_endpoint",
        "digest_channel",
        "teams_mode",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`OPENAI_API_KEY=` (in .env, or passed down to a worker process) means "not set"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("teams_mode")
    @classmethod
    def _local_only(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() != "local":
            raise ValueError("AMBASSADOR_TEAMS takes one value, local (authentication off)")
        return value.strip().lower() if value else None

    @field_validator("microsoft_app_type")
    @classmethod
    def _known_app_type(cls, value: str) -> str:
        known = {
            "multitenant": "MultiTenant",
            "singletenant": "SingleTenant",
            "userassignedmsi": "UserAssignedMSI",
        }
        if value.strip().lower() not in known:
            raise ValueError("MICROSOFT_APP_TYPE is MultiTenant, SingleTenant or UserAssignedMSI")
        return known[value.strip().lower()]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("digest_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        """`mon,wed,fri` (or `lun,mer,ven`, or `mon-fri`) from the environment."""
        if isinstance(value, str):
            days = parse_days(value)
            if days is None:
                raise ValueError("expected days such as mon,tue,wed,thu,fri or mon-fri")
            return days
        return value

    @field_validator("misfire_grace", mode="before")
    @classmethod
    def _grace(cls, value: object) -> object:
        """`2h`, `90m`, `30s` or plain seconds."""
        if isinstance(value, str):
            found = _DURATION.match(value.strip().lower())
            if not found:
                raise ValueError("expected a duration such as 2h, 90m or 600s")
            amount, unit = float(found[1]), found[2] or "s"
            return timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600}[unit])
        return value

    @field_validator("digest_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not _DIGEST_TIME.match(value.strip()):
            raise ValueError("expected HH:MM, for example 09:00")
        return value.strip()

    @field_validator("locale", mode="before")
    @classmethod
    def _lower_locale(cls, value: object) -> object:
        return value.strip().lower()[:2] if isinstance(value, str) else value

    @property
    def tz(self) -> ZoneInfo:
        """The programme's time zone (digest time, week boundaries)."""
        return ZoneInfo(self.timezone)

    @property
    def digest_at(self) -> time:
        hours, minutes = self.digest_time.split(":")
        return time(int(hours), int(minutes))

    def default_digest_channel(self, platform: str) -> str | None:
        """`AMBASSADOR_DIGEST_CHANNEL` is a Slack channel id; a Teams channel is chosen by
        typing `digest here` in it, since Teams ids are not something people can see."""
        return self.digest_channel if platform == "slack" else None

    @property
    def chat_platforms(self) -> list[str]:
        """The chat platforms whose credentials are configured."""
        platforms = []
        if self.slack_bot_token:
            platforms.append("slack")
        if self.microsoft_app_id or self.teams_mode == "local":
            platforms.append("teams")
        return platforms

    @property
    def model_provider(self) -> str | None:
        """ "azure", "openai" or None (the template drafter writes every draft)."""
        if self.azure_openai_endpoint and self.azure_openai_api_key:
            return "azure"
        if self.openai_api_key:
            return "openai"
        return None

    def sqlite_path(self) -> Path | None:
        """The SQLite file behind the database URL, if it is one."""
        prefix = "sqlite:///"
        url = self.database_url.replace("sqlite+aiosqlite:///", prefix)
        if url.startswith(prefix) and url != prefix + ":memory:":
            return Path(url[len(prefix) :])
        return None
