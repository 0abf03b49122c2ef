"""Privacy: what the bot holds about a person (export), erasing them (forget), and purging
a workspace the bot left after the retention period — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from bot.engine import LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import FORGOTTEN_PLATFORM, FlagReason
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import (
    attempts,
    departures,
    learners,
    places,
    question_stats,
    rounds,
    standings,
)
from tests.conftest import FakeClock
from tests.helpers.people import text_values
from tests.helpers.recount import histogram_matches, recount
from tests.test_cli import REPO, quizbot

T = TypeVar("T")
ANA = LearnerRef("slack", "UANA4711", "Ana Souza", "pt-BR")
BIA = LearnerRef("slack", "UBIA0815", "Bia Lima", "en")
T1_C1 = PlaceRef("slack", "T1", "C1")
T1_C2 = PlaceRef("slack", "T1", "C2")
T2_C9 = PlaceRef("slack", "T2", "C9")


async def letters(engine: QuizEngine, round_id: int, correct: bool) -> list[str]:
    """The letters of a right (or a wrong) answer to this round."""
    record = await engine.store.get_round(round_id)
    assert record is not None
    question = engine.bank.get(record.question_id)
    assert question is not None
    if correct:
        keys = [k for k in record.option_order if k in question.answer]
    else:
        keys = [k for k in record.option_order if k not in question.answer][: question.select_count]
    return ["ABCDEF"[record.option_order.index(k)] for k in keys]


async def play_round(
    engine: QuizEngine, place: PlaceRef, answers: list[tuple[LearnerRef, bool]], *, close: bool = True
) -> int:
    card = await engine.ask(place)
    assert isinstance(card, QuestionCard)
    for learner, correct in answers:
        await engine.answer(card.round_id, learner, await letters(engine, card.round_id, correct), place)
    if close:
        await engine.close(card.round_id)
    return card.round_id


async def tallies(store: SqlStore, round_ids: list[int]) -> tuple[Any, ...]:
    """What a channel sees of its rounds (answers per option, right or wrong, totals) and the
    statistics of every question."""
    picks = Counter((a.round_id, a.chosen_keys, a.correct) for a in await store.round_attempts(round_ids))
    async with store.db.read() as conn:
        stats = sorted(tuple(r) for r in await conn.execute(select(question_stats)))
    return picks, stats


async def count(store: SqlStore, table: Any, *where: Any) -> int:
    async with store.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def assert_boards_match_a_recount(store: SqlStore) -> None:
    expected, actual = await recount(store.db)
    assert expected == actual
    assert await histogram_matches(store.db)


async def ana_everywhere(engine: QuizEngine, clock: FakeClock) -> list[int]:
    """Ana answers in two channels and two workspaces, practises, reports a question, is an
    organiser, made Bia one, set a daily question and installed the app; Bia plays too."""
    round_ids = []
    for correct in (True, False, True):
        round_ids.append(await play_round(engine, T1_C1, [(ANA, correct), (BIA, not correct)]))
        clock.advance(minutes=15)
    round_ids.append(await play_round(engine, T1_C2, [(BIA, True), (ANA, True)]))
    round_ids.append(await play_round(engine, T2_C9, [(ANA, True)]))
    round_ids.append(await play_round(engine, T1_C1, [(ANA, True), (BIA, True)], close=False))
    card = await engine.start_session(ANA, T1_C1, size=2)
    await engine.answer(card.round_id, ANA, await letters(engine, card.round_id, True))
    await engine.flag_round(ANA, round_ids[0], FlagReason.UNCLEAR, "Ana Souza here: the stem is unclear")
    await engine.flag_round(BIA, round_ids[0], FlagReason.WRONG, "the key is wrong")
    await engine.set_organiser(T1_C1, ANA.user_id, "UADMIN01")
    await engine.set_organiser(T1_C1, BIA.user_id, ANA.user_id)
    await engine.set_daily(T1_C2, "08:30", created_by=ANA.user_id)
    installation = {"team_id": "T1", "user_id": ANA.user_id, "bot_token": "xoxb-secret-token"}
    await engine.store.save_installation("slack", "T:T1", json.dumps(installation), clock())  # type: ignore[attr-defined]
    return round_ids


async def test_export_holds_everything_of_one_learner_and_nothing_of_others(
    engine: QuizEngine, clock: FakeClock
) -> None:
    await ana_everywhere(engine, clock)
    data = await engine.export_learner("slack", ANA.user_id)
    assert data is not None
    text = json.dumps(data)  # JSON-able as it is
    assert data["learner"]["display_name"] == "Ana Souza" and data["learner"]["locale"] == "pt-BR"
    history = await engine.store.learner_history(ANA)
    assert len(data["attempts"]) == len(history) == 7
    assert sorted(a["question_id"] for a in data["attempts"]) == sorted(a.question_id for a in history)
    where = {(a["workspace"], a["channel"]) for a in data["attempts"]}
    assert where == {("T1", "C1"), ("T1", "C2"), ("T2", "C9")}
    assert [a["correct"] for a in data["attempts"]].count(False) == 1
    assert {s["board"] for s in data["standings"]} >= {"slack:T1", "slack:T1:C1", "slack:T2"}
    assert len(data["sessions"]) == 1 and data["sessions"][0]["size"] == 2
    assert [f["comment"] for f in data["flags"]] == ["Ana Souza here: the stem is unclear"]
    assert [o["workspace"] for o in data["organiser_of"]] == ["T1"]
    assert [o["workspace"] for o in data["organiser_grants_made"]] == ["T1"]
    assert [(s["channel"], s["at"]) for s in data["daily_schedules_set"]] == [("C2", "08:30")]
    assert data["installations_made"] == [{"workspace": "T:T1"}]
    for other in (BIA.user_id, BIA.display_name, "the key is wrong", "UADMIN01", "xoxb-secret-token"):
        assert other not in text
    assert await engine.export_learner("slack", "UNOBODY1") is None
    assert await engine.export_learner("discord", ANA.user_id) is None  # the id is per platform


async def test_forget_leaves_no_trace_and_keeps_tallies_and_boards(
    engine: QuizEngine, store: SqlStore, clock: FakeClock
) -> None:
    round_ids = await ana_everywhere(engine, clock)
    assert any(ANA.user_id in v or "Ana Souza" in v for _, _, v in await text_values(store))
    before = await tallies(store, round_ids)
    bia_before = await store.learner_history(BIA)
    board_before = await engine.leaderboard(T1_C1, BIA)
    assert "Ana Souza" in [e.display_name for e in board_before.entries]

    report = await engine.forget_learner("slack", ANA.user_id)

    assert report.found and report.attempts == 7 and report.sessions == 1 and report.flags == 1
    assert report.organiser_grants == 1 and report.schedules == 1 and report.standings > 0
    leftovers = [
        (table, column, value)
        for table, column, value in await text_values(store)
        if ANA.user_id in value or "Ana Souza" in value or "Souza" in value
    ]
    assert leftovers == []
    assert await tallies(store, round_ids) == before  # what channels saw, and question statistics
    await assert_boards_match_a_recount(store)
    board = await engine.leaderboard(T1_C1, BIA)
    assert [e.display_name for e in board.entries] == ["Bia Lima"]
    assert board.total_learners == board_before.total_learners - 1
    assert [(a.round_id, a.correct) for a in await store.learner_history(BIA)] == [
        (a.round_id, a.correct) for a in bia_before
    ]
    # the open round closes later: she is counted, never named
    reveal = await engine.close(round_ids[-1])
    assert reveal is not None and reveal.total_answers == 2
    assert reveal.right_names == ("Bia Lima",) and reveal.more_right == 0
    # organiser rights went with her; the grant she made stays, without her name on it
    assert ANA.user_id not in await engine.organisers(T1_C1)
    assert BIA.user_id in await engine.organisers(T1_C1)
    installation = await store.find_installation("slack", "T:T1")
    assert installation is not None and json.loads(installation)["bot_token"] == "xoxb-secret-token"
    (flag,) = await engine.open_flags()
    assert flag.flags == 2 and flag.comments == ("the key is wrong",)  # still counted, her text gone
    async with store.db.read() as conn:
        query = select(learners).where(learners.c.platform == FORGOTTEN_PLATFORM)
        anonymous = (await conn.execute(query)).all()
    assert len(anonymous) == 1 and anonymous[0].display_name == "" and anonymous[0].locale is None
    assert await count(store, standings, standings.c.learner_id == anonymous[0].id) == 0

    again = await engine.forget_learner("slack", ANA.user_id)  # idempotent: nothing left to find
    assert not again.found and again.attempts == 0
    assert await engine.export_learner("slack", ANA.user_id) is None
    assert not (await engine.forget_learner("slack", "UNKNOWN9")).found
    # she may come back: a new learner, a fresh start
    back = await play_round(engine, T1_C1, [(ANA, True)])
    assert [a.round_id for a in await store.learner_history(ANA)] == [back]
    await assert_boards_match_a_recount(store)


async def crowd_answers(
    engine: QuizEngine, place: PlaceRef, crowd: list[LearnerRef], alongside: Awaitable[T]
) -> tuple[int, T]:
    """A round in ``place`` that the crowd answers rightly, all at once with ``alongside``."""
    card = await engine.ask(place)
    assert isinstance(card, QuestionCard)
    right = await letters(engine, card.round_id, True)

    async def answer(learner: LearnerRef) -> None:
        await asyncio.sleep(random.random() / 50)
        await engine.answer(card.round_id, learner, right, place)

    async def beside() -> T:
        await asyncio.sleep(random.random() / 100)
        return await alongside

    *answered, result = await asyncio.gather(*(answer(m) for m in crowd), beside(), return_exceptions=True)
    assert not [r for r in (*answered, result) if isinstance(r, BaseException)]
    return card.round_id, result  # type: ignore[return-value]


async def test_forget_while_answers_are_being_written(engine: QuizEngine, store: SqlStore) -> None:
    crowd = [LearnerRef("slack", f"UCROWD{n:03d}", f"Crowd {n}") for n in range(40)]
    warm = await play_round(engine, T1_C1, [(ANA, True), *((m, True) for m in crowd[:5])])
    round_id, _ = await crowd_answers(engine, T1_C1, crowd, engine.forget_learner("slack", ANA.user_id))
    assert await count(store, attempts, attempts.c.round_id == round_id) == 40
    assert await count(store, attempts, attempts.c.round_id == warm) == 6
    await assert_boards_match_a_recount(store)
    async with store.db.read() as conn:
        named = set((await conn.execute(select(learners.c.user_id))).scalars())
    assert ANA.user_id not in named


async def test_forgetting_a_discord_member_who_only_organised(engine: QuizEngine) -> None:
    place = PlaceRef("discord", "9001", "42")
    await engine.set_daily(place, "07:00", created_by="555000111")
    report = await engine.forget_learner("discord", "555000111")
    assert report.found and report.schedules == 1 and report.attempts == 0
    schedule = await engine.daily_schedule(place)
    assert schedule is not None and schedule.created_by == ""
    assert not (await engine.forget_learner("discord", "555000111")).found


async def workspace_rows(store: SqlStore, workspace: str) -> tuple[int, int]:
    """(rounds, attempts) held for one workspace."""
    in_workspace = places.c.workspace_id == workspace
    async with store.db.read() as conn:
        round_count = (
            await conn.execute(select(func.count()).select_from(rounds.join(places)).where(in_workspace))
        ).scalar_one()
        attempt_count = (
            await conn.execute(
                select(func.count()).select_from(attempts.join(rounds).join(places)).where(in_workspace)
            )
        ).scalar_one()
    return int(round_count), int(attempt_count)


async def test_a_departed_workspace_is_purged_after_the_retention_period(
    engine: QuizEngine, store: SqlStore, clock: FakeClock
) -> None:
    only_t1 = LearnerRef("slack", "UONLYT1X", "Only There")
    for _ in range(2):
        await play_round(engine, T1_C1, [(ANA, True), (only_t1, False)])
    await play_round(engine, T2_C9, [(ANA, True), (BIA, False)])
    await engine.start_session(only_t1, T1_C2, size=1)
    await engine.set_daily(T1_C1, "09:00", created_by=only_t1.user_id)
    await engine.set_organiser(T1_C1, BIA.user_id, "UADMIN01")
    await engine.update_settings(T1_C1, timezone="America/Sao_Paulo")
    t2_before = await workspace_rows(store, "T2")
    t2_board = await engine.leaderboard(T2_C9, BIA)

    assert await engine.record_departure("slack", "T1") == []
    clock.advance(days=29, hours=23)
    assert await engine.purge_departed() == []
    assert await workspace_rows(store, "T1") == (3, 4)  # two channel rounds, one practice round
    clock.advance(hours=1)
    (report,) = await engine.purge_departed()
    assert (report.workspace, report.attempts, report.learners) == ("T1", 4, 1)

    assert await workspace_rows(store, "T1") == (0, 0)
    assert await count(store, places, places.c.workspace_id == "T1") == 0
    assert await count(store, standings, func.substr(standings.c.scope, 1, 8) == "slack:T1") == 0
    assert await count(store, departures) == 0
    assert await engine.organisers(T1_C1) == set()
    assert await engine.daily_schedule(T1_C1) is None
    assert (await engine.fresh_settings(T1_C1)).timezone == "UTC"  # its settings went too
    async with store.db.read() as conn:
        users = set((await conn.execute(select(learners.c.user_id))).scalars())
        stats = (await conn.execute(select(func.sum(question_stats.c.answered)))).scalar_one()
    assert users == {ANA.user_id, BIA.user_id}  # only seen there: gone; seen elsewhere: kept
    assert stats == await count(store, attempts)  # question statistics count what is left
    assert await workspace_rows(store, "T2") == t2_before
    assert await engine.leaderboard(T2_C9, BIA) == t2_board
    await assert_boards_match_a_recount(store)
    assert await engine.purge_departed(clock.now + timedelta(days=365)) == []  # nothing twice


async def test_coming_back_before_the_purge_keeps_everything(
    engine: QuizEngine, store: SqlStore, clock: FakeClock
) -> None:
    await play_round(engine, T1_C1, [(ANA, True)])
    await engine.record_departure("slack", "T1")
    await engine.record_departure("slack", "T1")  # a repeated event keeps the first time
    clock.advance(days=10)
    assert await engine.cancel_departure("slack", "T1")
    assert not await engine.cancel_departure("slack", "T1")
    assert await engine.purge_departed(clock.now + timedelta(days=90)) == []
    assert await workspace_rows(store, "T1") == (1, 1)
    await engine.record_departure("slack", "T1")  # left again: the clock starts again
    clock.advance(days=29)
    assert await engine.purge_departed() == []
    clock.advance(days=1)
    assert [r.workspace for r in await engine.purge_departed()] == ["T1"]
    # the bot is invited again after the purge: it starts from nothing and works
    await play_round(engine, T1_C1, [(ANA, True)])
    assert await workspace_rows(store, "T1") == (1, 1)


async def test_retention_zero_purges_at_once(store: SqlStore, bank: QuestionBank, clock: FakeClock) -> None:
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(5), retention=timedelta(0))
    await play_round(engine, T1_C1, [(ANA, True)])
    await play_round(engine, T2_C9, [(BIA, True)])
    (report,) = await engine.record_departure("slack", "T1")
    assert report.rounds == 1 and report.learners == 1
    assert await workspace_rows(store, "T1") == (0, 0)
    assert await workspace_rows(store, "T2") == (1, 1)


@pytest.mark.parametrize("value", ["-1", "thirty", "3651", "1.5"])
def test_retention_setting_is_validated(value: str) -> None:
    from bot.config import SettingsError, load_settings

    assert load_settings({}, env_file=None).retention_days == 30
    assert load_settings({"QUIZBOT_RETENTION_DAYS": "0"}, env_file=None).retention_days == 0
    with pytest.raises(SettingsError, match="QUIZBOT_RETENTION_DAYS"):
        load_settings({"QUIZBOT_RETENTION_DAYS": value}, env_file=None)


async def test_the_purge_loop_runs_the_engine_purge(engine: QuizEngine, clock: FakeClock) -> None:
    from bot.adapters.background import purge_departed_forever

    await play_round(engine, T1_C1, [(ANA, True)])
    await engine.record_departure("slack", "T1")
    clock.advance(days=31)
    loop = asyncio.create_task(purge_departed_forever(engine, interval=0.05))
    try:
        for _ in range(100):
            if not await engine.store.departed_workspaces():
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
    assert await engine.store.departed_workspaces() == []
    assert await engine.export_learner("slack", ANA.user_id) is None


async def prepared_database(tmp_path: Path, bank: QuestionBank) -> None:
    """The quizbot.db that ``quizbot`` finds in tmp_path: Ana and Bia answered two rounds."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}")
    await upgrade(database)
    store = SqlStore(database)
    try:
        engine = QuizEngine(store, bank, rng=random.Random(3))
        for _ in range(2):
            await play_round(engine, T1_C1, [(ANA, True), (BIA, False)])
    finally:
        await store.close()


def database_text(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "quizbot.db") as connection:
        return str(
            connection.execute("SELECT group_concat(user_id || display_name) FROM learners").fetchone()[0]
        )


async def test_operator_commands_export_and_forget(tmp_path: Path, bank: QuestionBank) -> None:
    await prepared_database(tmp_path, bank)
    ana = f"slack:{ANA.user_id}"
    exported = quizbot("privacy", "export", ana, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["learner"]["display_name"] == "Ana Souza" and len(data["attempts"]) == 2
    assert BIA.user_id not in exported.stdout and "Bia Lima" not in exported.stdout
    to_file = quizbot("privacy", "export", ana, "-o", "ana.json", cwd=tmp_path)
    assert to_file.returncode == 0 and "ana.json" in to_file.stderr
    assert json.loads((tmp_path / "ana.json").read_text(encoding="utf-8"))["attempts"] == data["attempts"]

    refused = quizbot("privacy", "forget", ana, cwd=tmp_path)  # no terminal to confirm on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "Ana Souza" in database_text(tmp_path)
    forgot = quizbot("privacy", "forget", ana, "--yes", cwd=tmp_path)
    assert forgot.returncode == 0, forgot.stderr
    assert "2 answer(s) kept anonymous" in forgot.stdout
    assert "Ana Souza" not in database_text(tmp_path) and ANA.user_id not in database_text(tmp_path)
    again = quizbot("privacy", "forget", ana, "--yes", cwd=tmp_path)
    assert again.returncode == 0 and "nothing is stored" in again.stdout
    gone = quizbot("privacy", "export", ana, cwd=tmp_path)
    assert gone.returncode == 1 and "nothing is stored" in gone.stderr and gone.stdout == ""
    malformed = quizbot("privacy", "export", "UANA4711", cwd=tmp_path)
    assert malformed.returncode == 2 and "PLATFORM:USER_ID" in malformed.stderr


async def test_forget_asks_on_a_terminal(tmp_path: Path, bank: QuestionBank) -> None:
    await prepared_database(tmp_path, bank)

    def on_a_terminal(answer: str) -> tuple[int, str]:
        leader, follower = pty.openpty()
        environment = {**os.environ, "PYTHONPATH": str(REPO)}
        environment.pop("QUIZBOT_DATABASE_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "privacy", "forget", f"slack:{BIA.user_id}"],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=environment,
            text=True,
        )
        os.close(follower)
        os.write(leader, answer.encode() + b"\n")
        out, _ = process.communicate(timeout=90)
        os.close(leader)
        return process.returncode, out

    code, out = on_a_terminal("n")
    assert code == 1 and "cannot be undone" in out and "Bia Lima" in database_text(tmp_path)
    code, out = on_a_terminal("yes")
    assert code == 0 and "forgot" in out and "Bia Lima" not in database_text(tmp_path)


async def test_a_learner_forgotten_by_another_process_plays_on_here(
    engine: QuizEngine, store: SqlStore, database_url: str, bank: QuestionBank
) -> None:
    """The operator's ``quizbot privacy forget`` runs beside the bot: the bot's cached id for
    the person names a deleted row. Their next answer, practice or report still works."""
    await play_round(engine, T1_C1, [(ANA, True)])
    assert await store.learner_id(ANA) is not None  # cached in the bot's process
    operator = SqlStore(Database(database_url))
    try:
        assert (await QuizEngine(operator, bank).forget_learner("slack", ANA.user_id)).found
    finally:
        await operator.close()
    card = await engine.ask(T1_C2)
    assert isinstance(card, QuestionCard)
    result = await engine.answer(card.round_id, ANA, await letters(engine, card.round_id, True), T1_C2)
    assert type(result).__name__ == "FeedbackCard"
    await engine.flag_round(ANA, card.round_id, FlagReason.WRONG, "again")
    practice = await engine.start_session(ANA, T1_C1, size=1)
    assert practice.round_id > card.round_id
    assert [a.round_id for a in await store.learner_history(ANA)] == [card.round_id]
    await assert_boards_match_a_recount(store)


async def test_a_stale_cached_id_in_a_report_or_a_practice_is_looked_up_again(
    engine: QuizEngine, store: SqlStore, database_url: str, bank: QuestionBank
) -> None:
    first = await play_round(engine, T1_C1, [(ANA, True)])
    operator = SqlStore(Database(database_url))
    try:
        await QuizEngine(operator, bank).forget_learner("slack", ANA.user_id)
    finally:
        await operator.close()
    await engine.flag_round(ANA, first, FlagReason.UNCLEAR)  # her cached id is stale here
    operator = SqlStore(Database(database_url))
    try:
        await QuizEngine(operator, bank).forget_learner("slack", ANA.user_id)
    finally:
        await operator.close()
    card = await engine.start_session(ANA, T1_C1, size=1)  # and stale again here
    assert card.session_id is not None
    data = await engine.export_learner("slack", ANA.user_id)
    assert data is not None and len(data["sessions"]) == 1 and data["flags"] == []


async def test_a_purge_while_another_workspace_answers(
    engine: QuizEngine, store: SqlStore, clock: FakeClock
) -> None:
    crowd = [LearnerRef("slack", f"UT2CROWD{n:02d}", f"T2 {n}") for n in range(30)]
    await play_round(engine, T1_C1, [(ANA, True), (BIA, True)])
    await engine.record_departure("slack", "T1")
    _, purged = await crowd_answers(
        engine, T2_C9, crowd, engine.purge_departed(clock.now + timedelta(days=31))
    )
    assert [r.workspace for r in purged] == ["T1"]
    assert await workspace_rows(store, "T1") == (0, 0)
    assert await workspace_rows(store, "T2") == (1, 30)
    await assert_boards_match_a_recount(store)


async def test_a_terminal_player_is_forgotten_by_the_name_they_played_under(
    tmp_path: Path, bank: QuestionBank
) -> None:
    from bot.adapters.console.play import terminal_learner

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}")
    await upgrade(database)
    store = SqlStore(database)
    try:
        engine = QuizEngine(store, bank, rng=random.Random(3))
        await play_round(engine, T1_C1, [(terminal_learner("Ana Terminal", None), True)])
    finally:
        await store.close()
    assert "Ana Terminal" in database_text(tmp_path)
    exported = quizbot("privacy", "export", "terminal:Ana Terminal", cwd=tmp_path)
    assert exported.returncode == 0 and len(json.loads(exported.stdout)["attempts"]) == 1
    forgot = quizbot("privacy", "forget", "terminal:ANA TERMINAL", "--yes", cwd=tmp_path)  # any case
    assert forgot.returncode == 0 and "1 answer(s) kept anonymous" in forgot.stdout, forgot.stdout
    assert "Ana Terminal" not in database_text(tmp_path) and "ana terminal" not in database_text(tmp_path)
    unknown = quizbot("privacy", "export", "myspace:ana", cwd=tmp_path)
    assert unknown.returncode == 2 and "discord, slack or terminal" in unknown.stderr
