"""The progress card: accuracy per task statement and answers per local day, from a
learner's own history, with an injected clock and a place's time zone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.adapters import plaintext
from bot.adapters.console.play import play
from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import AttemptRecord
from tests.conftest import FakeClock

PLACE = PlaceRef("discord", "guild-p", "c1")
ANA = LearnerRef("discord", "ana", "Ana", "pt-BR")


async def answer_some(engine: QuizEngine, task: str, outcomes: list[bool]) -> None:
    """A practice session in ``task`` answered right or wrong in turn, at the clock's time."""
    card = await engine.start_session(ANA, PLACE, size=len(outcomes), task=task)
    for correct in outcomes:
        assert isinstance(card, QuestionCard) and card.session_id is not None
        letters = [o.letter for o in card.options if o.correct == correct][: card.select_count]
        result = await engine.answer(card.round_id, ANA, letters)
        assert isinstance(result, FeedbackCard) and result.correct == correct
        card = await engine.next_question(card.session_id, ANA)  # type: ignore[assignment]


async def seed(engine: QuizEngine, clock: FakeClock) -> None:
    clock.now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # 37 days ago: counted per task, not per day
    await answer_some(engine, "3.1", [True])
    clock.now = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    await answer_some(engine, "3.2", [True, False, True])
    clock.now = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # 23:30 on the 25th in São Paulo
    await answer_some(engine, "3.2", [False])
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    await answer_some(engine, "3.4", [True, True])


async def test_progress_counts_tasks_and_local_days_with_zeros(engine: QuizEngine, clock: FakeClock) -> None:
    await engine.update_settings(PLACE, timezone="America/Sao_Paulo")
    await seed(engine, clock)
    card = await engine.progress(ANA, PLACE)
    assert card.locale == "pt-BR" and card.display_name == "Ana" and card.timezone == "America/Sao_Paulo"
    assert [(a.key, a.attempts, a.correct) for a in card.by_task] == [
        ("3.1", 1, 1),
        ("3.2", 4, 2),
        ("3.3", 0, 0),
        ("3.4", 2, 2),
    ]
    assert card.answered == 7
    assert len(card.days) == 30
    assert card.days[0].day == date(2026, 10, 28) and card.days[-1].day == date(2026, 11, 26)
    assert [d.day.toordinal() for d in card.days] == list(
        range(date(2026, 10, 28).toordinal(), date(2026, 11, 27).toordinal())
    )
    busy = {d.day: (d.answered, d.correct) for d in card.days if d.answered}
    assert busy == {
        date(2026, 11, 10): (3, 2),
        date(2026, 11, 25): (1, 0),  # 02:30 UTC is still the 25th in São Paulo
        date(2026, 11, 26): (2, 2),
    }


async def test_progress_without_a_place_cuts_days_in_utc(engine: QuizEngine, clock: FakeClock) -> None:
    await engine.update_settings(PLACE, timezone="America/Sao_Paulo")
    await seed(engine, clock)
    card = await engine.progress(ANA, days=7)
    assert card.timezone == "UTC" and len(card.days) == 7
    assert card.days[0].day == date(2026, 11, 20)
    busy = {d.day: (d.answered, d.correct) for d in card.days if d.answered}
    assert busy == {date(2026, 11, 26): (3, 2)}


async def test_progress_of_someone_who_never_answered(engine: QuizEngine) -> None:
    card = await engine.progress(LearnerRef("slack", "U9", "Nobody"), PLACE)
    assert card.answered == 0 and card.display_name == "Nobody" and card.locale == "en"
    assert [a.key for a in card.by_task] == ["3.1", "3.2", "3.3", "3.4"]
    assert len(card.days) == 30 and not any(d.answered for d in card.days)


async def test_the_terminal_shows_the_same_figures_as_tables(engine: QuizEngine, clock: FakeClock) -> None:
    await engine.update_settings(PLACE, timezone="America/Sao_Paulo")
    await seed(engine, clock)
    lines = plaintext.progress(await engine.progress(ANA, PLACE)).splitlines()
    assert lines[0] == "Acerto por tarefa (todas as respostas)"
    assert lines[1].split() == ["Tarefa", "Corretas", "Respondidas", "Acerto"]
    assert [line.split() for line in lines[2:6]] == [
        ["3.1", "1", "1", "100%"],
        ["3.2", "2", "4", "50%"],
        ["3.3", "0", "0", "—"],
        ["3.4", "2", "2", "100%"],
    ]
    assert len({len(line) for line in lines[1:6]}) == 1  # the columns line up
    assert lines[6] == "" and lines[7] == "Respostas por dia, últimos 30 dias (America/Sao_Paulo)"
    assert lines[8].split() == ["Data", "Respostas", "Corretas"]
    days = {line.split()[0]: line.split()[1:] for line in lines[9:]}
    assert [*days][::29] == ["28/10", "26/11"] and len(days) == 30
    assert days["10/11"] == ["3", "2", "▇▇▇"]
    assert days["25/11"] == ["1", "0", "▇"]  # the São Paulo evening, not the UTC morning after
    assert days["26/11"] == ["2", "2", "▇▇"]
    assert sum(int(cells[0]) for cells in days.values()) == 6  # the answer 37 days ago is not a day here


async def test_stats_typed_during_a_game_prints_the_tables(engine: QuizEngine) -> None:
    typed = iter(["stats\n", ""])  # then the end of input
    out = io.StringIO()
    learner = LearnerRef("console", "cy", "Cy", "en")
    await play(engine, learner, count=1, task="3.1", read_line=lambda: next(typed), out=out)
    text = out.getvalue()
    assert "Stats for Cy" in text and "No answers yet" in text
    assert "Accuracy per task statement (every answer)" in text
    assert "Answers per day, last 30 days (UTC)" in text
    assert text.index("Answers per day") < text.index("Session finished")


def test_quizbot_stats_prints_the_tables(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    environment.pop("QUIZBOT_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--user", "Ana", "--lang", "pt-BR"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert "Estatísticas de Ana" in done.stdout
    assert "Acerto por tarefa (todas as respostas)" in done.stdout
    assert "Respostas por dia, últimos 30 dias (UTC)" in done.stdout
    assert "matplotlib" not in done.stderr


async def test_stats_and_progress_together_read_the_history_once_and_agree(
    engine: QuizEngine, clock: FakeClock
) -> None:
    """`/quiz stats` shows both cards; one read of the learner's answers serves the two."""
    await engine.update_settings(PLACE, timezone="America/Sao_Paulo")
    await seed(engine, clock)
    store, reads = engine.store, []
    real = store.learner_history

    async def counted(learner: LearnerRef) -> list[AttemptRecord]:
        reads.append(learner)
        return await real(learner)

    store.learner_history = counted  # type: ignore[method-assign]
    stats, progress = await engine.stats_and_progress(ANA, PLACE)
    assert len(reads) == 1
    store.learner_history = real  # type: ignore[method-assign]
    assert stats == await engine.stats(ANA, PLACE)
    assert progress == await engine.progress(ANA, PLACE)
    assert stats.attempts == progress.answered == 7
