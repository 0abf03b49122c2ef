"""Failure paths: rolled-back writes, concurrent clicks on Next, regrades racing answers,
ids that look like SQL wildcards, bad settings. Each case here once went wrong."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.config import Settings, parse_dotenv
from bot.engine import (
    AnswerRefused,
    FeedbackCard,
    LearnerRef,
    Period,
    PlaceRef,
    QuestionCard,
    QuizEngine,
    SessionSummaryCard,
)
from bot.engine.cards import RefusalReason
from bot.engine.questions import QuestionBank
from bot.engine.service import EngineError, SettingRejected
from bot.store import SqlStore
from bot.store.tables import learners, rounds
from tests.conftest import FakeClock
from tests.helpers.recount import histogram_matches, recount


def person(n: int | str) -> LearnerRef:
    return LearnerRef("discord", f"r{n}", f"R {n}")


def right(card: QuestionCard) -> list[str]:
    return [o.letter for o in card.options if o.correct]


async def test_a_rolled_back_learner_insert_never_reaches_the_cache(
    engine: QuizEngine, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that inserts a new learner and then fails must not leave that learner's
    uncommitted id cached: the id would be reused by the next new learner."""
    card = await engine.ask(PlaceRef("discord", "g", "c"))
    assert isinstance(card, QuestionCard)
    real = store._write_answers_in
    failures = {"left": 1}

    def fail_once_after_learners(conn: Any, batch: Any, known: Any) -> Any:
        store._ensure_learners_in(conn, [a.learner for a in batch], batch[0].answered_at, known)
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(conn, batch, known)

    monkeypatch.setattr(store, "_write_answers_in", fail_once_after_learners)
    first = await engine.answer(card.round_id, person("ana"), right(card))  # retried, then recorded
    assert isinstance(first, FeedbackCard)
    second = await engine.answer(card.round_id, person("bob"), right(card))
    assert isinstance(second, FeedbackCard), "Bob was merged with Ana's rolled-back id"
    async with store.db.read() as conn:
        names = dict((await conn.execute(select(learners.c.user_id, learners.c.id))).all())
    assert len(names) == 2 and names["rana"] != names["rbob"]


async def test_a_stale_round_id_on_a_flag_is_dropped(engine: QuizEngine) -> None:
    question = next(iter(engine.bank))
    await engine.flag_question(person("new"), question.id, round_id=424242)  # a forged button
    card = await engine.ask(PlaceRef("discord", "g", "c"))
    assert isinstance(card, QuestionCard)
    result = await engine.answer(card.round_id, person("new"), right(card))
    assert isinstance(result, FeedbackCard)
    assert [s.flags for s in await engine.open_flags()] == [1]


async def test_two_next_clicks_open_one_question(engine: QuizEngine, store: SqlStore) -> None:
    learner = person("next")
    card = await engine.start_session(learner, PlaceRef("discord", "g", "c"), size=3)
    assert card.session_id is not None
    await engine.answer(card.round_id, learner, right(card))
    one, two = await asyncio.gather(
        engine.next_question(card.session_id, learner), engine.next_question(card.session_id, learner)
    )
    assert isinstance(one, QuestionCard) and isinstance(two, QuestionCard)
    assert one.round_id == two.round_id and one.position == two.position == 2
    assert len(await store.session_rounds(card.session_id)) == 2


async def test_a_finished_session_is_closed_and_only_its_owner_ends_it(engine: QuizEngine) -> None:
    learner = person("owner")
    card = await engine.start_session(learner, PlaceRef("discord", "g", "c"), size=3)
    assert card.session_id is not None
    with pytest.raises(EngineError):
        await engine.finish_session(card.session_id, person("intruder"))
    summary = await engine.finish_session(card.session_id, learner)
    assert summary.answered == 0
    late = await engine.answer(card.round_id, learner, right(card))
    assert isinstance(late, AnswerRefused) and late.reason is RefusalReason.CLOSED
    assert isinstance(await engine.next_question(card.session_id, learner), SessionSummaryCard)


async def test_summary_lists_every_missed_question_still_in_the_bank(
    store: SqlStore, bank: QuestionBank, clock: FakeClock
) -> None:
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(4))
    learner = person("miss")
    card = await engine.start_session(learner, PlaceRef("discord", "g", "c"), size=3, task="3.4")
    missed: list[str] = []
    while isinstance(card, QuestionCard):
        wrong = [o.letter for o in card.options if not o.correct][: card.select_count]
        await engine.answer(card.round_id, learner, wrong)
        missed.append(card.question_id)
        assert card.session_id is not None
        card = await engine.next_question(card.session_id, learner)  # type: ignore[assignment]
    # the first missed question leaves the bank (a new release dropped it)
    smaller = QuizEngine(
        store, QuestionBank(q for q in bank.all_including_retired() if q.id != missed[0]), clock=clock
    )
    summary = await smaller.finish_session(card.session_id, learner)
    assert [r.question_id for r in summary.to_review] == missed[1:]


async def test_one_bad_answer_fails_alone(engine: QuizEngine, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite stores over-long ids; PostgreSQL rejects them, which this case needs")
    card = await engine.ask(PlaceRef("discord", "g", "c"))
    assert isinstance(card, QuestionCard)
    bad = LearnerRef("discord", "x" * 200, "Too Long")  # longer than the column allows
    results = await asyncio.gather(
        *(engine.answer(card.round_id, person(n), right(card)) for n in range(20)),
        engine.answer(card.round_id, bad, right(card)),
    )
    assert all(isinstance(r, FeedbackCard) for r in results[:20])
    assert isinstance(results[20], AnswerRefused) and results[20].reason is RefusalReason.TRY_AGAIN


async def test_regrade_while_answers_arrive(engine: QuizEngine, store: SqlStore) -> None:
    place = PlaceRef("discord", "g", "c")
    card = await engine.ask(place, minutes=60)
    assert isinstance(card, QuestionCard)
    for n in range(30):
        await engine.answer(card.round_id, person(n), right(card), place=place)
    results = await asyncio.gather(
        *(engine.answer(card.round_id, person(100 + n), right(card), place=place) for n in range(60)),
        engine.regrade(card.question_id),
        engine.regrade(card.question_id),
    )
    assert all(isinstance(r, FeedbackCard) for r in results[:60])
    expected, actual = await recount(store.db)
    assert actual == expected and await histogram_matches(store.db)


async def test_regrade_touches_only_its_own_workspaces(engine: QuizEngine, store: SqlStore) -> None:
    """Ids with LIKE wildcards or other letter case must not match each other."""
    places = [PlaceRef("slack", w, "c_1") for w in ("a_c", "abc", "T1", "t1", "a:b")]
    places.append(PlaceRef("slack", "a", "b"))  # 'a' + channel 'b' must not look like workspace 'a:b'
    cards = {}
    for place in places:
        card = await engine.ask(place)
        assert isinstance(card, QuestionCard)
        await engine.answer(card.round_id, person(place.workspace), right(card), place=place)
        cards[place.workspace] = card
    boards_before = await recount(store.db)
    assert boards_before[0] == boards_before[1]
    await engine.regrade(cards["a_c"].question_id)
    await engine.regrade(cards["T1"].question_id)
    expected, actual = await recount(store.db)
    assert actual == expected, "a regrade deleted boards of another workspace"
    for place in places:
        board = await engine.leaderboard(place, person(place.workspace))
        assert board.viewer_score == 1, place


async def test_time_zone_change_then_regrade_keeps_points_in_their_week(
    engine: QuizEngine, clock: FakeClock
) -> None:
    place = PlaceRef("discord", "tz", "c")
    clock.now = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Sunday, ISO week 48 in UTC
    card = await engine.ask(place)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, person("tz"), right(card), place=place)
    await engine.update_settings(place, timezone="Asia/Tokyo")  # Monday there: week 49
    await engine.regrade(card.question_id)
    board = await engine.leaderboard(place, person("tz"), period=Period.WEEK)
    assert board.period_label == "2026-W49" and board.viewer_score is None  # Tokyo's week 49: nothing
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # back in week 48
    await engine.update_settings(place, timezone="UTC")
    assert (await engine.leaderboard(place, person("tz"), period=Period.WEEK)).viewer_score == 1


async def test_a_double_confirmed_reset_starts_one_season(engine: QuizEngine) -> None:
    place = PlaceRef("discord", "season", "c")
    seen = (await engine.fresh_settings(place)).season
    first, second = await asyncio.gather(
        engine.reset_season(place, from_season=seen), engine.reset_season(place, from_season=seen)
    )
    assert first.season == second.season == seen + 1
    assert (await engine.reset_season(place)).season == seen + 2  # a later, deliberate reset


async def test_another_process_reset_applies_to_the_next_answer(
    engine: QuizEngine, store: SqlStore, bank: QuestionBank, clock: FakeClock
) -> None:
    place = PlaceRef("discord", "elsewhere", "c")
    card = await engine.ask(place, minutes=60)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, person(1), right(card), place=place)  # caches season 1
    other_process = QuizEngine(store, bank, clock=clock)
    await other_process.reset_season(place)
    await engine.answer(card.round_id, person(2), right(card), place=place)
    board = await other_process.leaderboard(place, person(2))
    assert board.period_label == "season 2" and [e.display_name for e in board.entries] == ["R 2"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timezone", "America"),
        ("timezone", "localtime"),
        ("timezone", 5),
        ("round_minutes", True),
        ("round_minutes", 2000),
        ("locale", "enzyme"),
        ("feedback", "sometimes"),
    ],
)
async def test_bad_settings_are_refused(engine: QuizEngine, name: str, value: object) -> None:
    with pytest.raises(SettingRejected):
        await engine.update_settings(PlaceRef("discord", "g", "c"), **{name: value})


async def test_no_change_is_a_no_op(engine: QuizEngine) -> None:
    settings = await engine.update_settings(PlaceRef("discord", "g", "c"))
    assert settings.timezone == "UTC"


async def test_bad_round_lengths_and_board_sizes(engine: QuizEngine) -> None:
    place = PlaceRef("discord", "g", "c")
    for minutes in (-5, 0, 100_000):
        with pytest.raises(EngineError):
            await engine.ask(place, minutes=minutes)
    with pytest.raises(EngineError):
        await engine.leaderboard(place, None, top=-1)
    with pytest.raises(EngineError):
        await engine.start_session(person(1), place, size=0)


async def test_an_overdue_round_is_closed_by_the_next_ask(engine: QuizEngine, clock: FakeClock) -> None:
    place = PlaceRef("discord", "g", "overdue")
    first = await engine.ask(place, minutes=5)
    assert isinstance(first, QuestionCard)
    await engine.answer(first.round_id, person(1), right(first), place=place)
    clock.advance(minutes=6)  # the closing task has not run yet
    second = await engine.ask(place)
    assert isinstance(second, QuestionCard) and second.round_id != first.round_id
    assert second.previous_reveal is not None and second.previous_reveal.round_id == first.round_id
    assert second.previous_reveal.right_names == ("R 1",)
    assert await engine.close_due() == []  # nothing left for the closing task


async def test_session_rounds_leave_the_cache_once_answered(engine: QuizEngine, store: SqlStore) -> None:
    learner = person("cache")
    card = await engine.start_session(learner, PlaceRef("discord", "g", "c"), size=2)
    await engine.answer(card.round_id, learner, right(card))
    assert engine._rounds.get(card.round_id) is None
    async with store.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(rounds))).scalar_one() == 1


def test_settings_never_show_the_database_password() -> None:
    settings = Settings(database_url="postgresql+asyncpg://quiz:hunter2@db:5432/quiz?sslpassword=x")
    assert "hunter2" not in repr(settings) and "sslpassword" not in repr(settings)
    assert "quiz:***@db:5432/quiz" in repr(settings)


def test_dotenv_quoted_value_with_a_comment() -> None:
    assert parse_dotenv('TOKEN="a b"  # the bot token\nOTHER=x # note\n') == {"TOKEN": "a b", "OTHER": "x"}
