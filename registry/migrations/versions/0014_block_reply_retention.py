"""Retention of stored stamp-block replies (issue 17): when a block's reply was dropped
(registry/retention.py). A retry of a block whose reply was dropped is answered 410 Gone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stamp_blocks") as batch:
        batch.add_column(sa.Column("reply_dropped_at", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stamp_blocks") as batch:
        batch.drop_column("reply_dropped_at")
