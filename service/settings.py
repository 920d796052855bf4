"""One settings object for every front end (environment prefix TRIAGE_, nested with __)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
