"""A consistent copy of the SQLite database while the bot keeps writing to it.

Copying the file is not enough: in WAL mode recent commits live in ``-wal`` until a
checkpoint, and a copy taken mid-write can be torn. SQLite's online backup API copies
a consistent snapshot, pages and WAL alike, and the copy is checked before it replaces
anything. PostgreSQL has its own tool for this (pg_dump).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup could not be made; nothing at the target was changed."""


def sqlite_file(database_url: str) -> Path | None:
    """The database file behind a SQLite URL; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(url.database)


def backup_sqlite(source: Path, target: Path, *, overwrite: bool = False) -> int:
    """Copy ``source`` to ``target`` (a temporary file, checked, then renamed into place).
    Returns the number of pages copied."""
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; choose another path or pass --overwrite")
    if target.resolve() == source.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        live.backup(copy, pages=1024)  # small steps: the bot's writers are never held up for long
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
    except sqlite3.Error as error:
        copy.close()
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {error}") from error
    finally:
        live.close()
    copy.close()
    os.replace(partial, target)
    return pages
