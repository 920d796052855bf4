"""Schema migrations (alembic). Every database, SQLite or PostgreSQL, is brought to the latest revision
when the agent opens it: `upgrade(engine)`.

Databases created before migrations existed (by `create_all`, with no alembic_version table) are
stamped at the first revision, whose schema they have, and then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

HERE = Path(__file__).resolve().parent
FIRST_REVISION = "0001"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "runs" in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, revision)
