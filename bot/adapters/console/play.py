"""``quizbot play``: a personal session in the terminal, scored in the terminal's own place.

Input is read line by line, so a pipe works as well as a keyboard: tests and scripted
demos feed answers on standard input. End of input or Ctrl-C stops the session; every
answer given so far was committed before its feedback was printed.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.adapters import plaintext as render
from bot.adapters.console.leftovers import mention_running, settle_left_over
from bot.engine import AnswerRefused, FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.cards import GuessOutcome, RecordedCard
from bot.engine.locale import resolve_locale
from bot.engine.model import FlagReason
from bot.i18n import t

TERMINAL = PlaceRef("console", "local", "terminal")
STOP_WORDS = {"quit", "exit", "q", "sair"}
FLAG_WORDS = ("flag", "reportar")
STATS_WORDS = {"stats", "estatisticas", "estatísticas"}
GUESSED_WORDS = {"g", "guessed", "chutei"}  # after a right answer: "I guessed" (FSRS Hard)


class LineReader:
    """Lines from a blocking reader, delivered to asyncio by a daemon thread.

    ``asyncio.to_thread`` would run the read in the default executor, which shutdown
    waits for: after Ctrl-C the game would hang until the player pressed Enter.
    """

    def __init__(self, read_line: Callable[[], str]) -> None:
        self._read_line = read_line
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._thread: threading.Thread | None = None

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                line = self._read_line()
            except (OSError, ValueError):
                line = ""
            loop.call_soon_threadsafe(self._queue.put_nowait, line)
            if line == "":
                return

    async def next(self) -> str:
        if self._thread is None:
            loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._pump, args=(loop,), daemon=True, name="stdin")
            self._thread.start()
        return await self._queue.get()


def terminal_learner(name: str | None, locale: str | None) -> LearnerRef:
    user = name or _login_name()
    return LearnerRef("console", user.casefold(), user, locale)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "player"


async def play(
    engine: QuizEngine,
    learner: LearnerRef,
    *,
    count: int,
    task: str | None,
    read_line: Callable[[], str] | None = None,
    out: TextIO | None = None,
    focus: str | None = None,
) -> int:
    """Play one session (``focus="weak"``: a weak-topic drill); returns the number of
    answers recorded. After a right answer, ``g`` at the next prompt says it was a guess."""
    stream = out or sys.stdout
    reader = LineReader(read_line or sys.stdin.readline)

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    locale = resolve_locale(learner.locale, None, engine.default_locale)
    await settle_left_over(engine, learner, TERMINAL, say, full=False)
    await mention_running(engine, learner, say)
    card = await engine.start_session(learner, TERMINAL, size=count, task=task, scored=True, focus=focus)
    session_id = card.session_id
    assert session_id is not None
    say(t(card.locale, "console.welcome", count=count))
    if focus is not None:
        say(t(card.locale, f"console.{focus}_welcome"))
    answered = 0
    previous: QuestionCard | None = None
    right: FeedbackCard | None = None  # the answer just given, if right: "g" may re-grade it
    try:
        current: object = card
        while isinstance(current, QuestionCard):
            say()
            say(render.question(current))
            result = await _ask_until_valid(engine, learner, current, previous, reader, stream, right)
            if result is None:
                say()
                say(t(locale, "console.bye"))
                break
            answered += 1
            previous = current
            say()
            say(render.feedback(result) if isinstance(result, FeedbackCard) else render.recorded(result))
            right = result if isinstance(result, FeedbackCard) and result.correct else None
            current = await engine.next_question(session_id, learner)
            if right is not None and isinstance(current, QuestionCard):
                say(t(right.locale, "console.guessed_hint"))
            elif right is not None:  # the last question: no next prompt to type "g" at
                await _offer_last_guess(engine, learner, right, reader, stream)
    except (KeyboardInterrupt, asyncio.CancelledError):
        say()
        say(t(locale, "console.bye"))
    summary = await engine.finish_session(session_id, learner)
    say()
    say(render.summary(summary))
    return answered


async def _offer_last_guess(
    engine: QuizEngine, learner: LearnerRef, right: FeedbackCard, reader: LineReader, stream: TextIO
) -> None:
    """After a right answer to the session's last question, one prompt before the summary
    where "g" marks it a guess; Enter, anything else or the end of input goes on."""
    print(t(right.locale, "console.guessed_last"), end="", flush=True, file=stream)
    if (await reader.next()).strip().casefold() in GUESSED_WORDS:
        outcome = await engine.guess(right.round_id, learner)
        print(render.guess_reply(right.locale, outcome), file=stream, flush=True)


async def _ask_until_valid(
    engine: QuizEngine,
    learner: LearnerRef,
    card: QuestionCard,
    previous: QuestionCard | None,
    reader: LineReader,
    stream: TextIO,
    right: FeedbackCard | None = None,
) -> FeedbackCard | RecordedCard | None:
    prompt = t(card.locale, "console.prompt", letters="/".join(card.letters))
    while True:
        print(prompt, end="", flush=True, file=stream)
        line = await reader.next()
        if line == "":  # end of input
            return None
        text = line.strip()
        if text.casefold() in STOP_WORDS:
            return None
        if not text:
            continue
        if text.casefold().startswith(FLAG_WORDS):
            await _flag(engine, learner, previous or card, text, stream)
            continue
        if text.casefold() in STATS_WORDS:
            await show_stats(engine, learner, stream)
            continue
        if text.casefold() in GUESSED_WORDS:
            outcome = await engine.guess(right.round_id, learner) if right else GuessOutcome.NOTHING
            print(render.guess_reply(card.locale, outcome), file=stream, flush=True)
            continue
        result = await engine.answer(card.round_id, learner, [text], place=TERMINAL)
        if isinstance(result, AnswerRefused):
            print(render.refusal(result), file=stream, flush=True)
            continue
        return result


async def _flag(
    engine: QuizEngine, learner: LearnerRef, card: QuestionCard, line: str, stream: TextIO
) -> None:
    """``flag [wrong|unclear] [comment]`` reports the question just answered (or the current one)."""
    words = line.split(maxsplit=1)[1:] or [""]
    rest = words[0]
    reason = FlagReason.WRONG
    first, _, remainder = rest.partition(" ")
    if first.casefold() in {"unclear", "confusa", "confuso"}:
        reason, rest = FlagReason.UNCLEAR, remainder
    elif first.casefold() in {"wrong", "errada", "errado"}:
        rest = remainder
    await engine.flag_question(learner, card.question_id, reason, rest or None, card.round_id)
    print(t(card.locale, "console.flagged", id=card.question_id), file=stream, flush=True)


async def show_stats(engine: QuizEngine, learner: LearnerRef, stream: TextIO) -> None:
    """``quizbot stats`` and ``stats`` typed during a game: the stats, then the progress
    chart's figures as tables (a terminal shows no picture)."""
    stats, progress = await engine.stats_and_progress(learner, TERMINAL)
    print(render.stats(stats), "", render.progress(progress), sep="\n", file=stream, flush=True)
