"""`quizbot db backup`: a consistent copy of a live SQLite database, nothing overwritten."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.engine import PlaceRef, QuizEngine
from tests.test_standings import play_round

REPO = Path(__file__).resolve().parent.parent
PLACE = PlaceRef("discord", "guild-backup", "general")


def quizbot(*args: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), "QUIZBOT_DATABASE_URL": database_url},
    )


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_a_backup_of_a_live_database_holds_the_same_standings(
    engine: QuizEngine, database_url: str, tmp_path: Path
) -> None:
    for _ in range(3):
        await play_round(engine, PLACE, right=[1, 2, 3], wrong=[4, 5])
    if not database_url.startswith("sqlite"):
        result = quizbot("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, database_url=database_url)
        assert result.returncode == 2 and "pg_dump" in result.stderr
        assert not (tmp_path / "copy.db").exists()
        return
    source = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    wal = source.with_name(source.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # recent commits are still only in the WAL
    result = quizbot("db", "backup", "copy.db", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "copy.db"
    standings = "SELECT * FROM standings ORDER BY scope, period, learner_id"
    assert rows(copy, standings) == rows(source, standings) and rows(copy, standings)
    assert rows(copy, "SELECT count(*) FROM attempts") == [(15,)]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())  # noqa: ASYNC240

    await play_round(engine, PLACE, right=[6], wrong=[])  # the bot goes on; the copy is kept
    again = quizbot("db", "backup", "copy.db", cwd=tmp_path, database_url=database_url)
    assert again.returncode == 1 and "exists" in again.stderr
    assert rows(copy, "SELECT count(*) FROM attempts") == [(15,)]
    replaced = quizbot("db", "backup", "copy.db", "--overwrite", cwd=tmp_path, database_url=database_url)
    assert replaced.returncode == 0, replaced.stderr
    assert rows(copy, "SELECT count(*) FROM attempts") == [(16,)]


def test_a_backup_refuses_a_missing_database_and_its_own_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}"
    missing = quizbot("db", "backup", "copy.db", cwd=tmp_path, database_url=url)
    assert missing.returncode == 1 and "no database file" in missing.stderr
    assert not (tmp_path / "absent.db").exists() and not (tmp_path / "copy.db").exists()
    sqlite3.connect(tmp_path / "live.db").close()
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    itself = quizbot("db", "backup", str(tmp_path / "live.db"), "--overwrite", cwd=tmp_path, database_url=url)
    assert itself.returncode == 1 and "must not overwrite" in itself.stderr


async def test_export_standings_and_attempts_per_workspace(
    engine: QuizEngine, database_url: str, tmp_path: Path
) -> None:
    import csv
    import io
    import json

    other = PlaceRef("discord", "guild-other", "general")
    await play_round(engine, PLACE, right=[1, 2], wrong=[3])
    await play_round(engine, other, right=[7], wrong=[])
    everything = quizbot("db", "export", "--table", "attempts", cwd=tmp_path, database_url=database_url)
    assert everything.returncode == 0, everything.stderr
    assert len(list(csv.DictReader(io.StringIO(everything.stdout)))) == 4
    ours = quizbot(
        *("db", "export", "--format", "json", "--workspace", "discord:guild-backup", "-o", "ours.json"),
        cwd=tmp_path,
        database_url=database_url,
    )
    assert ours.returncode == 0 and "wrote" in ours.stderr, ours.stderr
    rows = json.loads((tmp_path / "ours.json").read_text(encoding="utf-8"))
    assert rows and all(r["scope"].startswith("discord:guild-backup") for r in rows)
    board = [r for r in rows if r["scope"] == "discord:guild-backup" and r["period"] == "s1:all"]
    assert [(r["user_id"], r["score"], r["answered"]) for r in board] == [
        ("m1", 1, 1),
        ("m2", 1, 1),
        ("m3", 0, 1),
    ]  # board order; nobody from the other guild
    assert len(rows) == 3 * 3 * 2  # 3 learners × (week, month, season) × (server, channel)
    assert {r["user_id"] for r in rows} == {"m1", "m2", "m3"}
    bad = quizbot("db", "export", "--workspace", "guild-backup", cwd=tmp_path, database_url=database_url)
    assert bad.returncode == 2 and "PLATFORM:ID" in bad.stderr
