"""Daily streaks, counted by local day across a workspace's daily questions.

A day with a posted daily question counts when the learner answered one of that day's
questions (whenever within its window). A day whose questions all closed unanswered
breaks the streak; a day whose question is still open does not break it yet; a day
with no post (no schedule, the bot was down) does not exist for streaks at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.engine.model import AttemptRecord


@dataclass(frozen=True)
class Streak:
    learner_id: int
    display_name: str
    current: int
    best: int
    correct_days: int  # days in the current streak answered correctly


def streaks(history: Sequence[tuple[str, int, bool]], attempts: Iterable[AttemptRecord]) -> list[Streak]:
    """``history``: (local date, round id, still open) of every posted daily round."""
    days: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for local_date, round_id, still_open in history:
        days[local_date].append((round_id, still_open))
    answers: dict[int, dict[int, bool]] = defaultdict(dict)
    names: dict[int, str] = {}
    for attempt in attempts:
        if attempt.anonymous:  # a forgotten person: never named, so no streak to show
            continue
        answers[attempt.learner_id][attempt.round_id] = attempt.correct
        names[attempt.learner_id] = attempt.display_name
    result = []
    for learner_id, answered in answers.items():
        current = best = correct_days = 0
        for local_date in sorted(days):
            rounds = days[local_date]
            mine = [answered[r] for r, _ in rounds if r in answered]
            if mine:
                current += 1
                correct_days = correct_days + 1 if any(mine) else correct_days
                best = max(best, current)
            elif all(not still_open for _, still_open in rounds):
                current = correct_days = 0  # a posted day missed
        result.append(Streak(learner_id, names[learner_id], current, best, correct_days))
    return sorted(result, key=lambda s: (-s.current, -s.correct_days, s.display_name))
