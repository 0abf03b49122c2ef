"""Storage: SQLAlchemy tables and the async repository. The only place with SQL."""

from bot.store.database import Database
from bot.store.repository import SqlStore

__all__ = ["Database", "SqlStore"]
