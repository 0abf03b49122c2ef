"""Several processes on one database (`--only slack` beside `--only scheduler`, or two
serving replicas): what one process caches must not outlive a forget or a purge done by
another. On SQLite a deleted id can be handed to the next new row, so a stale cached id
would silently credit someone else."""

from __future__ import annotations

import random
import time

import pytest

from bot.engine import LearnerRef, QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore, repository
from tests.conftest import FakeClock
from tests.test_privacy import T1_C1, T2_C9, letters, play_round

ANA = LearnerRef("slack", "UANA4711", "Ana Souza", "pt-BR")
BIA = LearnerRef("slack", "UBIA0815", "Bia Lima", "en")
CARA = LearnerRef("slack", "UCARA001", "Cara Nova", "en")


async def test_a_purge_by_another_process_must_not_hand_a_cached_id_to_someone_else(
    database_url: str, bank: QuestionBank, clock: FakeClock
) -> None:
    """Two processes on one database (`--only slack` + `--only scheduler`). The serving
    process has Ana's learner id cached; the scheduler purges the workspace Ana was only seen
    in. On SQLite (no AUTOINCREMENT) the next new learner gets Ana's old id, and Ana's next
    answer is written with the cached id: it lands on Cara's row (no FK error to notice)."""
    from bot.store.migrate import upgrade

    serving_db = Database(database_url)
    await upgrade(serving_db)
    serving = SqlStore(serving_db)
    scheduler = SqlStore(Database(database_url))
    try:
        a = QuizEngine(serving, bank, clock=clock, rng=random.Random(1))
        b = QuizEngine(scheduler, bank, clock=clock, rng=random.Random(2))
        await play_round(a, T2_C9, [(BIA, True)])  # Bia: the older learner, in T2
        await play_round(a, T1_C1, [(ANA, True)])  # Ana: the newest learner, only in T1
        assert await serving.learner_id(ANA) is not None  # cached by the serving process
        await a.record_departure("slack", "T1")
        clock.advance(days=31)
        assert [r.workspace for r in await b.purge_departed()] == ["T1"]

        await play_round(a, T2_C9, [(CARA, False)])  # a new person joins T2
        card = await a.ask(T2_C9)  # Ana, in T2 now, answers right
        await a.answer(card.round_id, ANA, await letters(a, card.round_id, True), T2_C9)  # type: ignore[union-attr]
        await a.close(card.round_id)  # type: ignore[union-attr]

        cara = await a.export_learner("slack", CARA.user_id)
        ana = await a.export_learner("slack", ANA.user_id)
        assert cara is not None
        assert len(cara["attempts"]) == 1, f"Ana's answer was credited to Cara: {cara['attempts']}"
        assert ana is not None and len(ana["attempts"]) == 1
    finally:
        await serving.close()
        await scheduler.close()


async def test_a_workspace_back_after_a_purge_works_in_a_process_that_served_it_before(
    database_url: str, bank: QuestionBank, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Slack serving processes behind one URL (or any process that did not handle the
    uninstall event and is not the purger). Process B cached T1's place ids; T1 uninstalls
    (event to A), the scheduler purges, T1 installs again: B must not use the deleted (or,
    on SQLite, reused) place ids it cached while T1 was active. Weeks pass between the
    departure and the purge; B's cache ages by its own clock, moved on here."""
    from bot.store.migrate import upgrade

    db_a = Database(database_url)
    await upgrade(db_a)
    a_store, b_store = SqlStore(db_a), SqlStore(Database(database_url))
    started = time.monotonic()
    try:
        a = QuizEngine(a_store, bank, clock=clock, rng=random.Random(1))
        b = QuizEngine(b_store, bank, clock=clock, rng=random.Random(2))
        await play_round(b, T1_C1, [(ANA, True)])  # B served T1: its place ids are cached
        await a.record_departure("slack", "T1")
        clock.advance(days=31)
        monkeypatch.setattr(repository, "monotonic", lambda: started + 31 * 86400)  # B's clock too
        assert [r.workspace for r in await a.purge_departed()] == ["T1"]
        await play_round(a, T2_C9, [(BIA, True)])  # life goes on elsewhere
        # T1 installs the app again; its next /quiz ask lands on process B
        await play_round(b, T1_C1, [(ANA, True)])
        data = await a.export_learner("slack", ANA.user_id)
        assert data is not None
        assert {x["workspace"] for x in data["attempts"]} == {"T1"}, data["attempts"]
    finally:
        await a_store.close()
        await b_store.close()
