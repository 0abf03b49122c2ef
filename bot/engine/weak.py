"""Weak-topic drills: which objectives a learner should work on next.

"Weak" is measured on the learner's recent answers only, so that a topic they have
since mastered stops being drilled: the last ``RECENT_ANSWERS`` answers (channel rounds,
practice and the terminal game; mock exams are not answers here). Per objective the
accuracy is smoothed, ``(correct + 1) / (answered + 2)``, so one lucky or unlucky answer
does not decide, and an objective never answered counts as 50%. Objectives are ranked
weakest first; ties go to the objective with fewer answers (less is known about it),
then to the objective id, so the ranking is the same on every run.

A drill draws from the ``POOL_OBJECTIVES`` weakest objectives (more when they hold
fewer questions than the session asks for), and the session stores its focus in its
task column (``"weak"`` or ``"weak:3.2"``), so a drill resumes the same way after a
restart without a schema change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.engine.model import AttemptRecord
from bot.engine.questions import Question

WEAK = "weak"
FOCUSES = (WEAK,)
RECENT_ANSWERS = 100
POOL_OBJECTIVES = 3
SUMMARY_OBJECTIVES = 2


@dataclass(frozen=True)
class ObjectiveScore:
    """One objective's recent record; ``smoothed`` is what the ranking compares."""

    objective: str
    answered: int
    correct: int

    @property
    def smoothed(self) -> float:
        return (self.correct + 1) / (self.answered + 2)


def recent(history: Iterable[AttemptRecord], limit: int = RECENT_ANSWERS) -> list[AttemptRecord]:
    """The learner's latest ``limit`` answers, oldest first."""
    return sorted(history, key=lambda a: (a.answered_at, a.round_id))[-limit:]


def rank_objectives(
    objectives: Iterable[str],
    history: Iterable[AttemptRecord],
    objective_of: Callable[[str], str | None],
    limit: int = RECENT_ANSWERS,
) -> list[ObjectiveScore]:
    """Every objective in ``objectives``, weakest first, scored on the last ``limit``
    answers (answers to questions of other objectives still count towards the limit)."""
    answered: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for attempt in recent(history, limit):
        objective = objective_of(attempt.question_id)
        if objective is not None:
            answered[objective] += 1
            correct[objective] += int(attempt.correct)
    scores = [ObjectiveScore(o, answered[o], correct[o]) for o in set(objectives)]
    return sorted(scores, key=lambda s: (s.smoothed, s.answered, s.objective))


def weak_pool(
    questions: Sequence[Question],
    ranking: Sequence[ObjectiveScore],
    size: int,
    objectives: int = POOL_OBJECTIVES,
) -> list[Question]:
    """The questions of the ``objectives`` weakest objectives, widened one objective at a
    time while the pool holds fewer than ``size`` questions (so a drill never repeats a
    question while the bank has others)."""
    by_objective: dict[str, list[Question]] = {}
    for question in questions:
        by_objective.setdefault(question.objective, []).append(question)
    pool: list[Question] = []
    for taken, score in enumerate(ranking):
        if taken >= objectives and len(pool) >= size:
            break
        pool += by_objective.get(score.objective, [])
    return pool


def reference_of(objective: str, questions: Iterable[Question]) -> str | None:
    """A documentation link for an objective: the reference its questions cite most
    (ties: the first in alphabetical order)."""
    cited = Counter(
        reference for q in questions if q.objective == objective for reference in q.references[:1]
    )
    if not cited:
        return None
    return min(cited, key=lambda url: (-cited[url], url))


def session_task(task: str | None, focus: str | None) -> str | None:
    """What a session stores in its task column: a task statement, or a focus with an
    optional task statement (``"weak:3.2"``, eight characters at most)."""
    if focus is None:
        return task
    return f"{focus}:{task}" if task else focus


def parse_session_task(stored: str | None) -> tuple[str | None, str | None]:
    """``(task, focus)`` back from a session's task column."""
    if stored is None:
        return None, None
    head, _, rest = stored.partition(":")
    if head in FOCUSES:
        return rest or None, head
    return stored, None
