"""What each run spent on the LLM (tokens and cost), for the metrics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("llm_tokens", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("llm_cost", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("llm_cost")
        batch_op.drop_column("llm_tokens")
