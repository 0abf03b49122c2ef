"""Write the bank as CSV or JSON, so study groups can print it or review it elsewhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.engine.questions import Question

LOCALES = ("en", "pt-BR")
CSV_FIELDS = (
    "id",
    "language",
    "task",
    "objective",
    "type",
    "difficulty",
    "style",
    "retired",
    "stem",
    "option_a",
    "option_b",
    "option_c",
    "option_d",
    "option_e",
    "option_f",
    "answer",
    "why",
    "why_wrong",
    "references",
)


def _record(question: Question, locales: Sequence[str]) -> dict[str, Any]:
    return {
        "id": question.id,
        "task": question.task,
        "objective": question.objective,
        "type": question.type,
        "difficulty": question.difficulty,
        "style": question.style,
        "retired": question.retired,
        "answer": sorted(question.answer),
        "references": list(question.references),
        **{
            locale: {
                "stem": question.text(locale).stem,
                "options": dict(question.text(locale).options),
                "why": question.text(locale).why,
                "why_wrong": dict(question.text(locale).why_wrong),
            }
            for locale in locales
        },
    }


def to_json(questions: Sequence[Question], locales: Sequence[str] = LOCALES) -> str:
    return json.dumps([_record(q, locales) for q in questions], ensure_ascii=False, indent=2) + "\n"


def to_csv(questions: Sequence[Question], locales: Sequence[str] = LOCALES) -> str:
    """One row per question and language; options in authored order (a–f)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for question in questions:
        for locale in locales:
            text = question.text(locale)
            writer.writerow(
                {
                    "id": question.id,
                    "language": locale,
                    "task": question.task,
                    "objective": question.objective,
                    "type": question.type,
                    "difficulty": question.difficulty,
                    "style": question.style,
                    "retired": question.retired,
                    "stem": text.stem,
                    **{f"option_{key}": text.options.get(key, "") for key in "abcdef"},
                    "answer": ",".join(sorted(question.answer)),
                    "why": text.why,
                    "why_wrong": " | ".join(f"{key}: {line}" for key, line in sorted(text.why_wrong.items())),
                    "references": " ".join(question.references),
                }
            )
    return buffer.getvalue()
