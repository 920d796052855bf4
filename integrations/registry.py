"""Adapters are found through the `triage.adapters` entry point group, so a fork (or a separate package)
adds a ticketing system by declaring one entry point, without touching the core:

    [project.entry-points."triage.adapters"]
    mydesk = "mypackage.mydesk:MyDeskAdapter"

The target is a class with a `settings_model` (a pydantic BaseSettings, secrets as SecretStr, read from
the environment under its own prefix) and a classmethod `from_settings(settings)`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol, cast

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from integrations.contract import HelpdeskAdapter

GROUP = "triage.adapters"


class AdapterClass(Protocol):
    settings_model: type[BaseSettings]

    def from_settings(self, settings: Any) -> HelpdeskAdapter: ...


class AdapterConfigError(ValueError):
    """An adapter name nobody registered, or settings that do not validate (the message names them)."""


def adapter_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def adapter_class(name: str) -> AdapterClass:
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise AdapterConfigError(f"no ticketing adapter named {name!r}; installed: {', '.join(adapter_names())}")
    return cast(AdapterClass, found[0].load())


def load_adapter(name: str, **overrides: Any) -> HelpdeskAdapter:
    """Build the named adapter from its environment settings (plus overrides, e.g. from tests)."""
    cls = adapter_class(name)
    try:
        settings = cls.settings_model(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        prefix = cls.settings_model.model_config.get("env_prefix", "")
        raise AdapterConfigError(f"settings for adapter {name!r} (environment {prefix}*): {problems}") from exc
    return cls.from_settings(settings)
