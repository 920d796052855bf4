"""The ticket as it arrived (channel, fields) beside its text in the PII store, so a run killed before
its first checkpoint starts again from the same ticket (docs/decisions/0008).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_texts") as batch_op:
        batch_op.add_column(sa.Column("arrival_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("ticket_texts") as batch_op:
        batch_op.drop_column("arrival_json")
