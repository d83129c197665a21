"""Alembic environment for briefbot's store: always online, on the connection (and inside the
transaction) that bot.store.migrations.upgrade hands over; the revisions never import the live
tables (bot/store/tables.py), each carries its own frozen definitions."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "briefbot migrates its store itself at start-up (bot.store.migrations.upgrade); "
        "run `briefbot doctor` or start the server instead of the alembic command line."
    )
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
