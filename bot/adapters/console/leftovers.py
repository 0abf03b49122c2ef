"""Mock exams a closed terminal left behind, settled when ``quizbot exam`` or
``quizbot play`` starts.

The terminal has no scheduler: when ``quizbot exam`` is stopped with Ctrl-C or killed,
the exam keeps its deadline in the database and nothing submits it once the time runs
out. So every terminal start looks first: an exam past its time is submitted with what
was answered and its result shown (in full before a new exam, in two lines before
practice); one still within its time is left running, since ``quizbot exam`` resumes it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.adapters import plaintext as render
from bot.engine import LearnerRef, PlaceRef, QuizEngine
from bot.engine.cards import ExamQuestionCard
from bot.i18n import t

Say = Callable[[str], None]


async def settle_left_over(
    engine: QuizEngine, learner: LearnerRef, place: PlaceRef, say: Say, *, full: bool
) -> None:
    """Submit the learner's exams whose time ran out while no terminal was there, and show
    each result: in full (``full``), or as the score alone."""
    for result in await engine.submit_overdue_exams(learner, place):
        say(t(result.locale, "console.exam_overdue"))
        say(render.exam_result(result) if full else render.exam_score(result))
        say("")
        await engine.exam_result_sent(result.exam_id)


def time_left(engine: QuizEngine, card: ExamQuestionCard) -> dict[str, int]:
    """Minutes and seconds to the exam's deadline, by the engine's clock."""
    left = max(0, int((card.deadline - engine.clock()).total_seconds()))
    return {"minutes": left // 60, "seconds": left % 60}


async def mention_running(engine: QuizEngine, learner: LearnerRef, say: Say) -> None:
    """Say that an exam is waiting to be resumed, and what happens when its time is up."""
    card = await engine.running_exam(learner)
    if card is not None:
        say(
            t(
                card.locale,
                "console.exam_running",
                answered=card.answered,
                size=card.size,
                **time_left(engine, card),
            )
        )
        say("")
