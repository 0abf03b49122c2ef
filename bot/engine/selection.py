"""Which question comes next: one policy for channels and for personal practice.

Task statements are drawn in the exam guide's proportion of objectives
(3.1 : 3.2 : 3.3 : 3.4 = 6 : 5 : 3 : 5) by always serving the task that is furthest
behind its share, so short runs already look like the exam; the question inside a task
is drawn at random from the best tier (unseen before missed before the rest).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from bot.engine.model import AttemptRecord
from bot.engine.questions import Question

TASK_WEIGHTS: Mapping[str, int] = {"3.1": 6, "3.2": 5, "3.3": 3, "3.4": 5}


def pick_task(available: Iterable[str], served: Mapping[str, int], rng: random.Random) -> str:
    """The task furthest behind its weighted share of what was served so far."""
    tasks = sorted(set(available))
    if not tasks:
        raise ValueError("no task to choose from")
    weight_total = sum(TASK_WEIGHTS.get(t, 1) for t in tasks)
    next_total = sum(served.get(t, 0) for t in tasks) + 1

    def deficit(task: str) -> float:
        return TASK_WEIGHTS.get(task, 1) * next_total / weight_total - served.get(task, 0)

    best = max(deficit(t) for t in tasks)
    leaders = [t for t in tasks if abs(deficit(t) - best) < 1e-9]
    return rng.choice(leaders)


def _pick(tiers: Sequence[Sequence[Question]], served: Mapping[str, int], rng: random.Random) -> Question:
    for tier in tiers:
        if tier:
            task = pick_task({q.task for q in tier}, served, rng)
            return rng.choice(sorted((q for q in tier if q.task == task), key=lambda q: q.id))
    raise ValueError("the question bank is empty")


def next_for_place(
    questions: Sequence[Question], posted_counts: Mapping[str, int], rng: random.Random
) -> Question:
    """Cycle through the whole bank before any repeat.

    The current cycle is the lowest post count among active questions: everything at
    that count is still due in this cycle, everything above it was served in it.
    """
    if not questions:
        raise ValueError("the question bank is empty")
    floor = min(posted_counts.get(q.id, 0) for q in questions)
    due = [q for q in questions if posted_counts.get(q.id, 0) == floor]
    served = Counter(q.task for q in questions if posted_counts.get(q.id, 0) > floor)
    return _pick([due], served, rng)


def next_for_learner(
    questions: Sequence[Question],
    history: Sequence[AttemptRecord],
    served_in_session: Mapping[str, int],
    exclude: set[str],
    rng: random.Random,
) -> Question:
    """Unseen questions first, then the ones whose latest answer was wrong, then the
    least recently answered, never repeating a question inside one session."""
    latest: dict[str, AttemptRecord] = {}
    for attempt in sorted(history, key=lambda a: a.answered_at):
        latest[attempt.question_id] = attempt
    pool = [q for q in questions if q.id not in exclude] or list(questions)
    unseen = [q for q in pool if q.id not in latest]
    missed = [q for q in pool if q.id in latest and not latest[q.id].correct]
    seen = sorted(
        (q for q in pool if q.id in latest and latest[q.id].correct),
        key=lambda q: latest[q.id].answered_at,
    )
    oldest = seen[: max(1, len(seen) // 4)]
    return _pick([unseen, missed, oldest, pool], served_in_session, rng)
