"""The schema as briefbot had it before Alembic: briefings (issue 5) and curation (issue 6).

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Frozen definitions: this revision spells out every table as it was when it was written and
never imports bot/store/tables.py, so a later change there cannot change what it does.

A database made by the pre-Alembic code (it has a `schema_version` table: version 1 had the
first three tables, version 2 all six) keeps the tables it has and gains the missing ones;
revision 0002 then drops `schema_version`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list[sa.SchemaItem]]]:
    return [
        # Generic idempotency keys: share buttons, Slack retries.
        ("claims", [
            sa.Column("key", sa.Text(), primary_key=True),
            sa.Column("claimed_at", sa.DateTime(), nullable=False),
        ]),
        ("subscriptions", [
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("channel_id", sa.String(64), primary_key=True),
            sa.Column("workspace_id", sa.String(64)),
            sa.Column("hour", sa.SmallInteger(), nullable=False),
            sa.Column("minute", sa.SmallInteger(), nullable=False),
            sa.Column("zone", sa.String(64), nullable=False),
            sa.Column("created_by", sa.String(64)),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
        ]),
        # One row per channel per local day: the claim that makes a post happen at most once.
        ("deliveries", [
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("channel_id", sa.String(64), primary_key=True),
            sa.Column("local_date", sa.Date(), primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("claimed_at", sa.DateTime(), nullable=False),
            sa.Column("claimed_by", sa.String(64), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("finished_at", sa.DateTime()),
            sa.Column("index_version", sa.Integer()),
            sa.Column("known_json", sa.Text()),
            sa.Column("error", sa.Text()),
        ]),
        ("questions", [
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("platform", sa.String(16), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("normalized", sa.Text(), nullable=False),
            sa.Column("intent", sa.String(64), nullable=False),
            sa.Column("abstained", sa.Boolean(), nullable=False),
            sa.Column("answer_id", sa.String(64)),
            sa.Column("citations_json", sa.Text()),
            sa.Column("created_at", sa.DateTime(), nullable=False),
        ]),
        ("votes", [
            sa.Column("answer_id", sa.String(64), primary_key=True),
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("user_key", sa.String(128), primary_key=True),
            sa.Column("vote", sa.SmallInteger(), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("normalized", sa.Text(), nullable=False),
            sa.Column("intent", sa.String(64), nullable=False),
            sa.Column("citations_json", sa.Text()),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
        ]),
        ("index_versions", [
            sa.Column("version", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("note", sa.Text()),
            sa.Column("created_at", sa.DateTime(), nullable=False),
        ]),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    legacy = "schema_version" in existing  # made by the pre-Alembic code: keep its tables
    for name, columns in _tables():
        if legacy and name in existing:
            continue
        op.create_table(name, *columns)
        if name == "questions":
            op.create_index("ix_questions_created_at", "questions", ["created_at"])


def downgrade() -> None:
    for name, _ in reversed(_tables()):
        op.drop_table(name)
