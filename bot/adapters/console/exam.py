"""``quizbot exam``: a timed mock exam in the terminal, in the terminal's own place.

Input is read line by line like ``quizbot play`` (a pipe works as well as a keyboard).
The time limit is the engine's: each wait for a line ends at the exam's deadline, read
with the engine's clock, and an answer that arrives later is refused by the engine,
which submits the exam instead. End of input or ``submit`` hands it in. Ctrl-C leaves it
running, as a killed terminal does (the exam lives in the database, deadline included):
the next ``quizbot exam`` resumes it, or, once its time is up, the next ``quizbot exam``
or ``quizbot play`` submits it (``leftovers``), since the terminal has no scheduler.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.adapters import plaintext as render
from bot.adapters.console.leftovers import settle_left_over, time_left
from bot.adapters.console.play import TERMINAL, LineReader
from bot.engine import LearnerRef, QuizEngine
from bot.engine.cards import ExamQuestionCard, ExamRefused, ExamResultCard
from bot.i18n import t

SUBMIT_WORDS = {"submit", "enviar"}
PAUSE_WORDS = {"quit", "exit", "q", "sair"}  # as in `quizbot play`: stop here, like Ctrl-C


async def take_exam(
    engine: QuizEngine,
    learner: LearnerRef,
    *,
    count: int,
    read_line: Callable[[], str] | None = None,
    out: TextIO | None = None,
) -> ExamResultCard | None:
    """Run one mock exam (or resume the learner's running one) to its result; None when
    Ctrl-C left it running. An exam an earlier terminal left past its time is submitted
    and its result shown first."""
    stream = out or sys.stdout
    reader = LineReader(read_line or sys.stdin.readline)

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    await settle_left_over(engine, learner, TERMINAL, say, full=True)
    resuming = await engine.running_exam(learner)
    card = await engine.start_exam(learner, TERMINAL, size=count)
    if resuming is not None:
        say(t(card.locale, "exam.resumed", answered=card.answered, size=card.size, **time_left(engine, card)))
    else:
        minutes = round((card.deadline - engine.clock()).total_seconds() / 60, 1)
        say(t(card.locale, "exam.welcome", count=card.size, minutes=f"{minutes:g}"))
    current: ExamQuestionCard | ExamResultCard | ExamRefused = card
    shown: ExamQuestionCard = card
    redraw = True
    try:
        while isinstance(current, ExamQuestionCard):
            if redraw:
                say()
                say(render.exam_question(current))
                if current.answered == current.size and current.chosen_letters:
                    say(t(current.locale, "exam.all_answered"))
            shown, redraw = current, True
            left = max(0.0, (current.deadline - engine.clock()).total_seconds())
            say(t(current.locale, "exam.time_left", minutes=int(left // 60), seconds=int(left % 60)))
            print(t(current.locale, "exam.prompt", letters="/".join(current.letters)), end="", file=stream)
            stream.flush()
            try:
                line = await asyncio.wait_for(reader.next(), timeout=left)
            except TimeoutError:
                current = await engine.exam_question(current.exam_id, learner, current.position)
                continue
            if line == "":  # end of input: hand in what was answered
                break
            if line.strip().casefold() in PAUSE_WORDS:
                raise KeyboardInterrupt  # handing in is never one letter away: only `submit` does
            current = await _act(engine, learner, current, line.strip())
            if isinstance(current, ExamRefused) and current.reason.value in ("invalid_choice", "wrong_count"):
                say(render.refusal(current))  # then ask the same question again
                current, redraw = shown, False
            elif current is shown:
                redraw = False
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C: stop, and say what becomes of it
        say()
        say(t(shown.locale, "console.exam_interrupted", **time_left(engine, shown)))
        return None
    if not isinstance(current, ExamResultCard):
        submitted = await engine.submit_exam(shown.exam_id, learner)
        if isinstance(submitted, ExamRefused):  # finished elsewhere meanwhile: show the stored result
            submitted = await engine.exam_result(shown.exam_id, learner)
        current = submitted
    assert isinstance(current, ExamResultCard)
    say()
    say(render.exam_result(current))
    await engine.exam_result_sent(current.exam_id)
    return current


async def _act(
    engine: QuizEngine, learner: LearnerRef, card: ExamQuestionCard, text: str
) -> ExamQuestionCard | ExamResultCard | ExamRefused:
    """One line: letters answer the shown question, a number moves, ``submit`` (or an
    empty line once everything is answered) hands the exam in."""
    if text.casefold() in SUBMIT_WORDS or (text == "" and card.answered == card.size):
        return await engine.submit_exam(card.exam_id, learner)
    if text == "":
        return card  # an empty line while questions remain: ask again
    if text.isdigit():
        return await engine.exam_question(card.exam_id, learner, int(text))
    return await engine.exam_answer(card.exam_id, learner, card.position, [text])
