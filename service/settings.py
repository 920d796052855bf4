"""One settings object for every front end (environment prefix TRIAGE_, nested with __)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.llm.settings import LlmSettings
from agent.state import Mode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    home: Path = Path(".triage")
    """Where the embedded default keeps its SQLite files (state, checkpoints, the local helpdesk)."""
    database_url: str | None = None
    """SQLAlchemy URL of the state database; defaults to SQLite under `home`."""
    pack: Path = Path("packs/saas_support")
    default_mode: Mode = "auto"
    """The global mode until someone sets one with `triage control`."""
    encoder_threads: int = 2
    helpdesk: str = "local"
    """The ticketing adapter (entry point name in `triage.adapters`): local, rt, zendesk, jira_sm, ..."""

    # --- the HTTP service (`triage serve`) ---
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    max_body_bytes: int = 256 * 1024
    """Larger requests get 413 before they are read."""
    rate_limit_per_minute: int = 600
    """Per API key, with bursts up to `rate_burst`; beyond it 429 with Retry-After."""
    rate_burst: int = 60
    webhook_auth: Literal["standard", "token"] = "standard"
    """How the generic webhook endpoint verifies senders: Standard Webhooks HMAC, or a shared token."""
    webhook_secrets: list[SecretStr] = []
    """Standard Webhooks secrets (`whsec_...`); several while rotating."""
    webhook_tokens: list[SecretStr] = []
    """Shared tokens for `webhook_auth=token` (header X-Webhook-Token)."""
    worker_threads: int = 1
    poll_interval_s: float = 30.0
    """How often `triage serve` polls a helpdesk that sends no webhooks (Request Tracker); 0 turns it off."""
    """In-process workers of `triage serve` for queued tickets (0: run `triage worker` processes)."""
    llm: LlmSettings | None = None
    """The optional LLM endpoint (TRIAGE_LLM__MODEL, TRIAGE_LLM__BASE_URL, ...; docs/llm.md). None: local only."""

    @field_validator("encoder_threads")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @property
    def state_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'triage.db'}"

    @property
    def checkpoint_path(self) -> Path:
        return self.home / "checkpoints.db"

    @property
    def helpdesk_path(self) -> Path:
        return self.home / "helpdesk.db"
