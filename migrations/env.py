"""Alembic environment: runs on a connection handed over by ``bot.store.migrate``.

The bot migrates through its own write transaction (BEGIN IMMEDIATE on SQLite, an
advisory lock on PostgreSQL), so two processes starting at once upgrade exactly once.
The ``alembic`` command line works too, with ``-x url=...`` or QUIZBOT_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.tables import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_standalone() -> None:
    from bot.config import DEFAULT_DATABASE_URL, _normalise_database_url
    from bot.store.migrate import upgrade_url

    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "QUIZBOT_DATABASE_URL", DEFAULT_DATABASE_URL
    )
    asyncio.run(upgrade_url(_normalise_database_url(url), run_on))


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    run_standalone()
