"""The lots feed (issue 15, protocol 3): print records get a place in a feed of their own.

`events.lot_seq` is taken from the counter 'lot_seq' in the transaction that stores a print
record, so kiosks can pull lots after a cursor (GET /lots/changes) and never miss one that
committed late. Print records stored before this revision get their id as their place, and
the counter starts above them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("lot_seq", sa.BigInteger(), nullable=True))
        batch.create_index("events_lot_seq", ["lot_seq"])
    op.execute("UPDATE events SET lot_seq = id WHERE kind = 'print'")
    op.execute(
        "INSERT INTO counters(name, value) SELECT 'lot_seq', COALESCE(MAX(id), 0) FROM events "
        "WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'lot_seq')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'lot_seq'")
    with op.batch_alter_table("events") as batch:
        batch.drop_index("events_lot_seq")
        batch.drop_column("lot_seq")
