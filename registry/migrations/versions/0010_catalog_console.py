"""The console's Catalog section (issue 16): a folded copy of each product's and producer's
name for search that ignores case and Vietnamese diacritics ("che ta xua" finds "Chè Tà
Xùa", ocop.text.fold), and a producer's contact person (office-only: not in the wire).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ocop.text import fold

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("search_fold", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("producers") as batch:
        batch.add_column(sa.Column("search_fold", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_person", sa.Text(), nullable=False, server_default=""))
    op.create_index("products_search_fold", "products", ["search_fold", "id"])
    conn = op.get_bind()
    products = sa.table(
        "products", sa.column("id"), sa.column("name_vi"), sa.column("name_en"),
        sa.column("search_fold"),
    )  # fmt: skip
    producers = sa.table("producers", sa.column("id"), sa.column("name"), sa.column("search_fold"))
    for row in conn.execute(sa.select(products.c.id, products.c.name_vi, products.c.name_en)):
        conn.execute(
            products.update()
            .where(products.c.id == row.id)
            .values(search_fold=fold(f"{row.name_vi} {row.name_en}"))
        )
    for producer in conn.execute(sa.select(producers.c.id, producers.c.name)):
        conn.execute(
            producers.update()
            .where(producers.c.id == producer.id)
            .values(search_fold=fold(producer.name))
        )


def downgrade() -> None:
    op.drop_index("products_search_fold", table_name="products")
    with op.batch_alter_table("producers") as batch:
        batch.drop_column("contact_person")
        batch.drop_column("search_fold")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("search_fold")
