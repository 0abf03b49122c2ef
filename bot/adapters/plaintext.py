"""Cards as plain text: the terminal shows these, and chat adapters reuse their wording."""

from __future__ import annotations

import json
from typing import Any

from bot.engine.cards import (
    AnswerRefused,
    ExamQuestionCard,
    ExamRefused,
    ExamResultCard,
    FeedbackCard,
    GuessOutcome,
    LeaderboardCard,
    ProgressCard,
    QuestionCard,
    RecordedCard,
    RevealCard,
    SessionSummaryCard,
    StatsCard,
    StreaksCard,
    WeakSpot,
)
from bot.engine.reminders import Reminder
from bot.i18n import CATALOGS, t

EXPORT_FILENAME = "quizbot-data.json"


def personal_data(data: dict[str, Any]) -> str:
    """A person's export (``QuizEngine.export_learner``) as the JSON every front end gives them."""
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def question(card: QuestionCard) -> str:
    lines = []
    if card.position is not None and card.session_size is not None:
        lines.append(
            t(card.locale, "question.session_progress", position=card.position, size=card.session_size)
        )
    lines += _question_body(card)
    return "\n".join(lines)


def _question_body(card: QuestionCard | ExamQuestionCard) -> list[str]:
    lines = [t(card.locale, "question.header", task=card.task, objective=card.objective)]
    lines += ["", card.stem, ""]
    lines += [f"  {option.letter}) {option.text}" for option in card.options]
    lines.append("")
    lines.append(how_to_answer(card))
    return lines


def how_to_answer(card: QuestionCard | ExamQuestionCard) -> str:
    """ "Choose one answer." or "Select TWO." under a question, on every platform."""
    if card.select_count == 1:
        return t(card.locale, "question.select_one")
    return t(card.locale, "question.select_many", count=card.select_count)


def feedback(card: FeedbackCard) -> str:
    locale = card.locale
    lines = [
        t(locale, "feedback.correct" if card.correct else "feedback.wrong"),
        t(locale, "feedback.you_chose", letters=", ".join(card.chosen_letters)),
        t(locale, "feedback.answer_is", letters=", ".join(card.correct_letters)),
        t(locale, "feedback.why", why=card.why),
    ]
    lines += [
        t(locale, "feedback.why_wrong", letter=o.letter, why=o.why_wrong) for o in card.options if o.why_wrong
    ]
    lines += [t(locale, "feedback.reference", url=url) for url in card.references]
    return "\n".join(lines)


def recorded(card: RecordedCard) -> str:
    return t(card.locale, "recorded", letters=", ".join(card.chosen_letters))


def refusal(card: AnswerRefused | ExamRefused) -> str:
    """Why an answer (to a round or a mock-exam question) changed nothing."""
    prefix = "exam.refused" if isinstance(card, ExamRefused) else "refused"
    return t(
        card.locale,
        f"{prefix}.{card.reason.value}",
        letters="/".join(card.letters),
        count=card.expected_count or 0,
    )


def reveal(card: RevealCard) -> str:
    locale = card.locale
    lines = [t(locale, "reveal.title"), "", card.stem, ""]
    for option in card.options:
        mark = "✓" if option.correct else " "
        tally = t(
            locale,
            "reveal.tally",
            letter=option.letter,
            picks=option.picks,
            percent=_percent(option.picks, card.total_answers),
        )
        lines.append(f" {mark} {tally} — {option.text}")
    lines += [
        "",
        t(locale, "reveal.answer_is", letters=", ".join(card.correct_letters)),
        t(locale, "reveal.total", count=card.total_answers),
    ]
    if card.right_names:
        names = ", ".join(card.right_names)
        key = "reveal.right_more" if card.more_right else "reveal.right"
        lines.append(t(locale, key, names=names, more=card.more_right))
    else:
        lines.append(t(locale, "reveal.nobody"))
    lines += [t(locale, "reveal.streak", name=name, days=days) for name, days in card.streaks]
    lines.append(t(locale, "feedback.why", why=card.why))
    lines += [t(locale, "feedback.why_wrong", letter=letter, why=why) for letter, why in card.why_wrong]
    lines += [t(locale, "feedback.reference", url=url) for url in card.references]
    return "\n".join(lines)


def summary(card: SessionSummaryCard) -> str:
    locale = card.locale
    lines = [
        t(locale, "summary.title"),
        t(
            locale,
            "summary.score",
            correct=card.correct,
            answered=card.answered,
            percent=_percent(card.correct, card.answered),
        ),
    ]
    if card.answered < card.size:
        lines.append(t(locale, "summary.unfinished", answered=card.answered, size=card.size))
    lines += [
        t(locale, "summary.task_row", key=a.key, correct=a.correct, attempts=a.attempts) for a in card.by_task
    ]
    if card.to_review:
        lines.append(t(locale, "summary.review"))
        lines += [
            t(locale, "summary.review_row", objective=r.objective, id=r.question_id, url=r.reference)
            for r in card.to_review
        ]
    elif card.answered:
        lines.append(t(locale, "summary.perfect"))
    if card.weak_spots:
        lines.append(t(locale, "summary.weak"))
        lines += [weak_spot(locale, spot) for spot in card.weak_spots]
    return "\n".join(lines)


def objective_title(locale: str, objective: str) -> str:
    """The exam guide's name of an objective; empty for an objective of a study group's
    own bank that the catalogs do not name."""
    key = f"objective.{objective}"
    return t(locale, key) if key in CATALOGS["en"] else ""


def weak_spot(locale: str, spot: WeakSpot) -> str:
    record = (
        t(locale, "summary.weak_record", correct=spot.correct, answered=spot.answered)
        if spot.answered
        else t(locale, "summary.weak_unseen")
    )
    row = t(
        locale,
        "summary.weak_row",
        objective=spot.objective,
        title=objective_title(locale, spot.objective),
        record=record,
        url=spot.reference or "",
    )
    return row.rstrip(" ·").replace("  ", " ")


def guess_reply(locale: str, outcome: GuessOutcome) -> str:
    """The answer to an "I guessed" button, neutral while the round's results wait for its close."""
    return t(locale, f"guessed.{outcome.value}")


def leaderboard(card: LeaderboardCard) -> str:
    locale = card.locale
    scope = t(locale, f"leaderboard.scope.{card.scope.value}")
    period = t(locale, f"leaderboard.period.{card.period.value}", label=card.period_label)
    lines = [t(locale, "leaderboard.title", scope=scope, period=period)]
    if not card.entries:
        lines.append(t(locale, "leaderboard.empty"))
    for entry in card.entries:
        row = t(locale, "leaderboard.row", rank=entry.rank, name=entry.display_name, score=entry.score)
        lines.append(f"{row}  ◀" if entry.is_viewer else row)
    if card.tied_beyond:
        lines.append(t(locale, "leaderboard.tied_beyond", count=card.tied_beyond, rank=card.entries[-1].rank))
    if card.viewer_rank is not None:
        lines.append(
            t(
                locale,
                "leaderboard.you",
                rank=card.viewer_rank,
                total=card.total_learners,
                score=card.viewer_score,
            )
        )
    elif card.entries:
        lines.append(t(locale, "leaderboard.you_none"))
    return "\n".join(lines)


def stats(card: StatsCard) -> str:
    locale = card.locale
    lines = [t(locale, "stats.title", name=card.display_name)]
    if card.exams is not None:
        exams = card.exams
        lines.append(
            t(
                locale,
                "stats.exams",
                count=exams.count,
                last=exams.last_score,
                best=exams.best_score,
                passed=exams.passed,
            )
        )
    lines += plan(card)
    if not card.attempts:
        if card.exams is None:
            lines.append(t(locale, "stats.none"))
        return "\n".join(lines)
    lines.append(
        t(
            locale,
            "stats.total",
            correct=card.correct,
            attempts=card.attempts,
            percent=_percent(card.correct, card.attempts),
        )
    )
    for task in card.by_task:
        lines.append(
            t(
                locale,
                "stats.task_row",
                key=task.key,
                correct=task.correct,
                attempts=task.attempts,
                percent=task.percent,
            )
        )
        for objective in card.by_objective:
            if objective.key.startswith(task.key + "."):
                lines.append(
                    t(
                        locale,
                        "stats.objective_row",
                        key=objective.key,
                        correct=objective.correct,
                        attempts=objective.attempts,
                        percent=objective.percent,
                    )
                )
    lines.append(t(locale, "stats.runs", current=card.current_run, best=card.best_run))
    if card.daily_streak is not None:
        lines.append(t(locale, "stats.daily", current=card.daily_streak, best=card.best_daily_streak))
    return "\n".join(lines)


def plan(card: StatsCard) -> list[str]:
    """The study plan's lines of the stats: exam countdown, bank covered, reviews due."""
    if card.plan is None:
        return []
    locale, study = card.locale, card.plan
    lines = []
    if study.exam_date is not None and study.days_left is not None:
        shown = study.exam_date.isoformat()
        if study.days_left == 0:
            lines.append(t(locale, "plan.exam_today", date=shown))
        else:
            lines.append(t(locale, "plan.exam_in", date=shown, days=study.days_left))
    lines.append(
        t(
            locale,
            "plan.coverage",
            covered=study.covered,
            total=study.bank_size,
            percent=study.coverage_percent,
        )
    )
    lines.append(t(locale, "plan.due", count=study.due_today))
    return lines


def streaks(card: StreaksCard) -> str:
    locale = card.locale
    lines = [t(locale, "streaks.title")]
    if not card.entries:
        lines.append(t(locale, "streaks.none"))
    lines += [
        t(locale, "streaks.row", rank=e.rank, name=e.display_name, streak=e.streak, correct=e.correct_days)
        for e in card.entries
    ]
    if card.viewer_streak is not None:
        lines.append(
            t(
                locale,
                "streaks.you",
                streak=card.viewer_streak,
                best=card.viewer_best,
                correct=card.viewer_correct_days,
            )
        )
    return "\n".join(lines)


BAR_CELL = "▇"
MAX_BAR = 40  # cells: a day with more answers is drawn this long


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Columns as wide as their widest cell: the first one left-aligned, the others right."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  "
        + "  ".join(
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [headers, *rows]
    ]


def progress(card: ProgressCard) -> str:
    """The progress chart's figures as two tables, under the chart's own titles."""
    locale = card.locale
    lines = [t(locale, "chart.tasks.title")]
    lines += _table(
        [t(locale, f"progress.col.{name}") for name in ("task", "correct", "answered", "accuracy")],
        [
            [task.key, str(task.correct), str(task.attempts), f"{task.percent}%" if task.attempts else "—"]
            for task in card.by_task
        ],
    )
    lines += ["", t(locale, "chart.days.title", days=len(card.days), zone=card.timezone)]
    table = _table(
        [t(locale, f"progress.col.{name}") for name in ("date", "answers", "correct")],
        [
            [
                t(locale, "chart.day", day=day.day.day, month=day.day.month),
                str(day.answered),
                str(day.correct),
            ]
            for day in card.days
        ],
    )
    lines.append(table[0])
    lines += [
        f"{row}  {BAR_CELL * min(day.answered, MAX_BAR)}".rstrip()
        for row, day in zip(table[1:], card.days, strict=True)
    ]
    return "\n".join(lines)


def exam_question(card: ExamQuestionCard) -> str:
    """A mock-exam question: progress, the question, and the answer given so far."""
    lines = [t(card.locale, "exam.progress", position=card.position, size=card.size, answered=card.answered)]
    lines += _question_body(card)
    if card.chosen_letters:
        lines.append(t(card.locale, "exam.your_answer", letters=", ".join(card.chosen_letters)))
    return "\n".join(lines)


def exam_score(card: ExamResultCard) -> str:
    """The raw score and the scaled estimate: two lines, also said alone where the whole
    result would be too much (a terminal exam settled before practice)."""
    locale = card.locale
    verdict = t(locale, "exam.result.pass" if card.passed else "exam.result.fail")
    raw = t(
        locale,
        "exam.result.raw",
        correct=card.correct,
        total=card.total,
        percent=_percent(card.correct, card.total),
        answered=card.answered,
    )
    return (
        raw
        + "\n"
        + t(locale, "exam.result.scaled", score=card.scaled_score, pass_mark=card.pass_mark, verdict=verdict)
    )


def exam_result_head(card: ExamResultCard) -> str:
    """The score part of a result: raw, scaled estimate (labelled as one), per task."""
    locale = card.locale
    lines = [t(locale, "exam.result.title")]
    if card.expired:
        lines.append(t(locale, "exam.result.expired"))
    lines += [exam_score(card), t(locale, "exam.result.estimate_note")]
    lines += [
        t(
            locale,
            "exam.result.task_row",
            key=a.key,
            correct=a.correct,
            attempts=a.attempts,
            percent=a.percent,
        )
        for a in card.by_task
    ]
    lines.append(t(locale, "exam.result.review") if card.missed else t(locale, "exam.result.perfect"))
    return "\n".join(lines)


def exam_missed(card: ExamResultCard) -> list[str]:
    """One block of text per missed question: the question, the answers and why."""
    locale = card.locale
    blocks = []
    for item in card.missed:
        lines = [
            t(locale, "exam.result.missed", position=item.position, task=item.task, objective=item.objective),
            item.stem,
        ]
        lines += [f"  {option.letter}) {option.text}" for option in item.options]
        lines.append(
            t(locale, "exam.result.chosen", letters=", ".join(item.chosen_letters))
            if item.chosen_letters
            else t(locale, "exam.result.unanswered")
        )
        lines += [
            t(locale, "feedback.answer_is", letters=", ".join(item.correct_letters)),
            t(locale, "feedback.why", why=item.why),
        ]
        lines += [
            t(locale, "feedback.why_wrong", letter=o.letter, why=o.why_wrong)
            for o in item.options
            if o.why_wrong and o.letter in item.chosen_letters
        ]
        lines += [t(locale, "feedback.reference", url=url) for url in item.references]
        blocks.append("\n".join(lines))
    return blocks


def exam_result(card: ExamResultCard) -> str:
    return "\n\n".join([exam_result_head(card), *exam_missed(card)])


def reminder(card: Reminder) -> str:
    """The daily reminder's direct message (the button under it starts the reviews)."""
    lines = [t(card.locale, "plan.remind.dm", count=card.due)]
    if card.days_left is not None:
        lines.append(t(card.locale, "plan.remind.dm_exam", days=card.days_left))
    lines.append(t(card.locale, "plan.remind.dm_off"))
    return "\n".join(lines)
