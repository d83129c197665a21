"""Feeds (issue 14): each feed's ETag/Last-Modified and last poll, and the items claimed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Frozen definitions: this revision never imports bot/store/tables.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("url", sa.Text(), primary_key=True),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("polled_at", sa.DateTime()),
        sa.Column("status", sa.String(32)),
        sa.Column("error", sa.Text()),
    )
    # One row per item ever claimed (key "guid:…" or "url:…"): replicas add each item once.
    op.create_table(
        "feed_items",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("feed_url", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("path", sa.Text()),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_feed_items_feed_url", "feed_items", ["feed_url"])


def downgrade() -> None:
    op.drop_index("ix_feed_items_feed_url", table_name="feed_items")
    op.drop_table("feed_items")
    op.drop_table("feeds")
