"""Leaderboards: shared ranks, ties at the cut, the viewer's own rank, seasons, periods."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engine import FeedbackCard, LearnerRef, Period, PlaceRef, QuestionCard, QuizEngine, Scope
from tests.conftest import FakeClock

GUILD = "guild-lb"


def member(n: int) -> LearnerRef:
    return LearnerRef("discord", f"m{n}", f"Member {n:02d}")


async def play_round(engine: QuizEngine, place: PlaceRef, right: list[int], wrong: list[int]) -> None:
    card = await engine.ask(place)
    assert isinstance(card, QuestionCard)
    good = [o.letter for o in card.options if o.correct]
    bad = [o.letter for o in card.options if not o.correct][: card.select_count]
    for n in right:
        assert isinstance(await engine.answer(card.round_id, member(n), good, place=place), FeedbackCard)
    for n in wrong:
        assert isinstance(await engine.answer(card.round_id, member(n), bad, place=place), FeedbackCard)
    await engine.close(card.round_id)


async def give_scores(engine: QuizEngine, place: PlaceRef, scores: dict[int, int]) -> None:
    """Play enough rounds that member n ends with scores[n] points (everyone answers every round)."""
    for r in range(max(scores.values())):
        right = [n for n, s in scores.items() if s > r]
        wrong = [n for n, s in scores.items() if s <= r]
        await play_round(engine, place, right, wrong)


async def test_ties_share_rank_and_the_cut_at_tenth_place(engine: QuizEngine) -> None:
    place = PlaceRef("discord", GUILD, "c1")
    # scores: 5, 4, 4, 3, then eight members tied at 2 (ranks 5..12 share rank 5), one at 1
    scores = {1: 5, 2: 4, 3: 4, 4: 3, **{n: 2 for n in range(5, 13)}, 13: 1}
    await give_scores(engine, place, scores)
    card = await engine.leaderboard(place, member(13), period=Period.ALL, top=10)
    assert [e.rank for e in card.entries] == [1, 2, 2, 4, 5, 5, 5, 5, 5, 5]
    assert [e.score for e in card.entries[:4]] == [5, 4, 4, 3]
    assert card.tied_beyond == 2  # members 11 and 12 share rank 5 but did not fit
    assert card.viewer_rank == 13 and card.viewer_score == 1  # outside the top 10
    assert card.total_learners == 13
    tied = await engine.leaderboard(place, member(9), top=10)
    assert tied.viewer_rank == 5 and tied.viewer_score == 2  # rank shared with everyone at 2
    shown = [e for e in tied.entries if e.is_viewer]
    assert len(shown) == 1 and shown[0].display_name == "Member 09"


async def test_channel_scope_counts_only_that_channel(engine: QuizEngine) -> None:
    one, two = PlaceRef("discord", GUILD, "c1"), PlaceRef("discord", GUILD, "c2")
    await play_round(engine, one, [1], [2])
    await play_round(engine, two, [2], [1])
    await play_round(engine, two, [2], [])
    guild = await engine.leaderboard(one, None, scope=Scope.WORKSPACE)
    assert [(e.display_name, e.score) for e in guild.entries] == [("Member 02", 2), ("Member 01", 1)]
    channel = await engine.leaderboard(one, member(1), scope=Scope.CHANNEL)
    assert [(e.display_name, e.score, e.rank) for e in channel.entries] == [
        ("Member 01", 1, 1),
        ("Member 02", 0, 2),
    ]


async def test_season_reset_starts_boards_afresh_and_keeps_attempts(engine: QuizEngine) -> None:
    place = PlaceRef("discord", GUILD, "c1")
    await play_round(engine, place, [1, 2], [])
    before = await engine.leaderboard(place, member(1))
    assert before.viewer_score == 1 and before.period_label == "season 1"
    settings = await engine.reset_season(place)
    assert settings.season == 2
    after = await engine.leaderboard(place, member(1))
    assert after.entries == () and after.viewer_rank is None and after.period_label == "season 2"
    await play_round(engine, place, [2], [1])
    again = await engine.leaderboard(place, member(1))
    assert [(e.display_name, e.score) for e in again.entries] == [("Member 02", 1), ("Member 01", 0)]
    stats = await engine.stats(member(1))
    assert stats.attempts == 2 and stats.correct == 1  # attempts survive the reset


async def test_weeks_and_months_cut_in_the_place_time_zone(engine: QuizEngine, clock: FakeClock) -> None:
    place = PlaceRef("discord", "guild-tz", "c1")
    await engine.update_settings(place, timezone="America/Sao_Paulo")
    # Sunday 2026-11-29 23:30 in São Paulo is Monday 02:30 UTC: still ISO week 48 locally
    clock.now = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    await play_round(engine, place, [1], [])
    week = await engine.leaderboard(place, member(1), period=Period.WEEK)
    assert week.period_label == "2026-W48" and week.viewer_score == 1
    month = await engine.leaderboard(place, member(1), period=Period.MONTH)
    assert month.period_label == "2026-11" and month.viewer_score == 1
    clock.now = datetime(2026, 11, 30, 3, 30, tzinfo=UTC)  # 00:30 Monday locally: week 49, same month
    assert (await engine.leaderboard(place, member(1), period=Period.WEEK)).viewer_score is None
    assert (await engine.leaderboard(place, member(1), period=Period.MONTH)).viewer_score == 1
    assert (await engine.leaderboard(place, member(1), period=Period.ALL)).viewer_score == 1


async def test_stats_card_counts_tasks_objectives_and_runs(engine: QuizEngine) -> None:
    place = PlaceRef("discord", GUILD, "c1")
    pattern = [True, True, False, True, True, True, False, True]
    for correct in pattern:
        await play_round(engine, place, [1] if correct else [], [] if correct else [1])
    stats = await engine.stats(member(1))
    assert stats.attempts == 8 and stats.correct == 6
    assert stats.best_run == 3 and stats.current_run == 1
    assert sum(a.attempts for a in stats.by_task) == 8
    assert sum(a.attempts for a in stats.by_objective) == 8
    assert all(o.key[:3] in {t.key for t in stats.by_task} for o in stats.by_objective)


async def test_invalid_settings_are_rejected_and_change_nothing(engine: QuizEngine) -> None:
    import pytest

    from bot.engine.service import SettingRejected

    place = PlaceRef("discord", "guild-set", "c1")
    for name, value in [
        ("timezone", "Mars/Olympus"),
        ("locale", "fr"),
        ("feedback", "never"),
        ("round_minutes", 0),
        ("colour", "red"),
    ]:
        with pytest.raises(SettingRejected, match=name):
            await engine.update_settings(place, **{name: value})
    settings = await engine.update_settings(place, timezone="Europe/Berlin", locale="pt_BR", round_minutes=3)
    assert (settings.timezone, settings.locale, settings.round_minutes) == ("Europe/Berlin", "pt-BR", 3)
    card = await engine.ask(place)
    assert isinstance(card, QuestionCard) and card.locale == "pt-BR"
