"""The mock exam's rules that need no storage: its shape, its score and its time limit.

A mock exam is shaped like Domain 3 of the real exam: questions spread over the task
statements in the foundation's proportions (``TASK_WEIGHTS``, 6:5:3:5), multiple
response included, no feedback until the end, a time limit. Its score is shown as the
raw count and as an estimate on the exam's 100–1000 scale; AWS publishes no mapping from
raw to scaled scores, so the estimate is only a straight line through this bank.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction

from bot.engine.model import ExamItem, Reschedule
from bot.engine.questions import Question
from bot.engine.selection import TASK_WEIGHTS
from bot.engine.spacing import grade_for, reschedule

DEFAULT_EXAM_SIZE = 20
MAX_EXAM_SIZE = 65  # the whole exam's length: more would not be a mock of anything
TIME_PER_QUESTION = timedelta(seconds=90)  # the real exam: 90 minutes for 65 questions
PASS_MARK = 700
SCALE_LOW, SCALE_HIGH = 100, 1000


def scaled_score(correct: int, total: int) -> int:
    """``round(100 + 900 × correct / total)``, halves rounded up, in exact arithmetic
    (Python's ``round`` would round halves to even: 212.5 → 212)."""
    if total <= 0 or not 0 <= correct <= total:
        raise ValueError(f"{correct} correct of {total} is not a score")
    span = SCALE_HIGH - SCALE_LOW
    return SCALE_LOW + (2 * span * correct + total) // (2 * total)


def task_counts(size: int, available: Mapping[str, int]) -> dict[str, int]:
    """How many questions of each task statement: ``size`` split by ``TASK_WEIGHTS`` with
    largest-remainder rounding (ties go to the heavier task, then the lower id). A task
    whose share is more than the bank holds gives all it has, and the rest is split again
    among the other tasks by the same rule."""
    tasks = sorted(task for task, count in available.items() if count > 0)
    if size < 0 or size > sum(available[task] for task in tasks):
        raise ValueError(f"the bank cannot fill an exam of {size} questions")
    capped: dict[str, int] = {}
    while True:
        open_tasks = [task for task in tasks if task not in capped]
        shares = _apportion(size - sum(capped.values()), open_tasks)
        short = {task: available[task] for task in open_tasks if shares[task] > available[task]}
        if not short:
            return {**capped, **shares}
        capped.update(short)


def _apportion(total: int, tasks: Sequence[str]) -> dict[str, int]:
    weight = sum(TASK_WEIGHTS.get(task, 1) for task in tasks)
    quota = {task: Fraction(total * TASK_WEIGHTS.get(task, 1), weight) for task in tasks}
    share = {task: int(quota[task]) for task in tasks}
    by_remainder = sorted(
        tasks, key=lambda task: (share[task] - quota[task], -TASK_WEIGHTS.get(task, 1), task)
    )
    for task in by_remainder[: total - sum(share.values())]:
        share[task] += 1
    return share


def compose_exam(questions: Sequence[Question], size: int, rng: random.Random) -> list[Question]:
    """``size`` distinct questions, by task statement in the weights' proportions, with at
    least one multiple-response question when the bank has any, in a shuffled order.
    The same rng state gives the same exam."""
    by_task: dict[str, list[Question]] = defaultdict(list)
    for question in sorted(questions, key=lambda q: q.id):
        by_task[question.task].append(question)
    counts = task_counts(size, {task: len(pool) for task, pool in by_task.items()})
    chosen = [q for task in sorted(counts) for q in rng.sample(by_task[task], counts[task])]
    multiple = [q for q in questions if q.select_count > 1]
    if chosen and multiple and not any(q.select_count > 1 for q in chosen):
        # swap a single-answer question for a multiple-response one of the same task when
        # possible, so the task counts stay as computed
        same_task = [i for i, q in enumerate(chosen) if any(m.task == q.task for m in multiple)]
        index = rng.choice(same_task) if same_task else rng.randrange(len(chosen))
        fitting = [m for m in multiple if m.task == chosen[index].task] or multiple
        chosen[index] = rng.choice(sorted(fitting, key=lambda q: q.id))
    rng.shuffle(chosen)
    return chosen


def exam_reviews(items: Sequence[ExamItem], timezone: str) -> list[tuple[str, datetime, Reschedule]]:
    """The graded answers of a finished exam as spaced-repetition reviews (right: Good,
    wrong: Again), each at the time it was answered; a question never reached is not a
    review. The store applies them inside the finish's own transaction, so an exam is
    never finished without them (a crash in between would skip them for good)."""
    return [
        (
            item.question_id,
            item.answered_at,
            reschedule(item.question_id, grade_for(item.correct is True), item.answered_at, None, timezone),
        )
        for item in items
        if item.answered_at is not None
    ]
