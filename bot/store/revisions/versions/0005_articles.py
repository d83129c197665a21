"""Articles (issue 19): added articles and their removal, the truth every replica's seeds
folder follows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Frozen definitions: this revision never imports bot/store/tables.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("url", sa.Text()),
        sa.Column("text", sa.Text()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("removed_by", sa.Text()),
        sa.Column("removed_at", sa.DateTime()),
        sa.Column("index_version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_articles_url", "articles", ["url"])
    op.create_index("ix_articles_index_version", "articles", ["index_version"])


def downgrade() -> None:
    op.drop_index("ix_articles_index_version", table_name="articles")
    op.drop_index("ix_articles_url", table_name="articles")
    op.drop_table("articles")
