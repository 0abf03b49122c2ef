"""A question at every schema maximum: what any custom bank may legally contain."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.questions import Question, QuestionBank, QuestionText


def extreme_question(bank: QuestionBank, question_type: str) -> Question:
    base = next(q for q in bank if q.type == question_type)
    keys = base.option_keys if question_type == "single" else ("a", "b", "c", "d", "e", "f")
    answer = base.answer if question_type == "single" else frozenset({"a", "b", "c"})
    text = QuestionText(
        "S" * 1000,
        {k: k.upper() * 300 for k in keys},
        "W" * 1500,
        {k: "X" * 400 for k in keys if k not in answer},
    )
    return replace(
        base,
        option_keys=keys,
        answer=answer,
        texts={"en": text, "pt-BR": text},
        references=tuple(f"https://docs.aws.amazon.com/{'p' * 200}/{n}" for n in range(3)),
    )
