"""Questions as the engine sees them: validated, immutable, bilingual."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

QuestionType = Literal["single", "multiple"]
TASKS: tuple[str, ...] = ("3.1", "3.2", "3.3", "3.4")
FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class QuestionText:
    """One language's text. ``why_wrong`` is keyed by authored option key."""

    stem: str
    options: Mapping[str, str]
    why: str
    why_wrong: Mapping[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    task: str
    objective: str
    type: QuestionType
    difficulty: int
    style: str
    answer: frozenset[str]
    option_keys: tuple[str, ...]
    references: tuple[str, ...]
    texts: Mapping[str, QuestionText]
    retired: bool = False
    source: str = ""

    @property
    def select_count(self) -> int:
        """How many options a learner must pick (1 for single answer)."""
        return len(self.answer)

    def text(self, locale: str) -> QuestionText:
        return self.texts.get(locale) or self.texts[FALLBACK_LOCALE]


class QuestionBank:
    """All loaded questions by id; retired ones stay resolvable for history."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self._by_id: dict[str, Question] = {}
        for question in questions:
            if question.id in self._by_id:
                raise ValueError(f"duplicate question id {question.id}")
            self._by_id[question.id] = question
        self._active = tuple(q for q in self._by_id.values() if not q.retired)

    def __len__(self) -> int:
        return len(self._active)

    def __iter__(self) -> Iterator[Question]:
        return iter(self._active)

    def get(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def active(self, task: str | None = None) -> tuple[Question, ...]:
        if task is None:
            return self._active
        return tuple(q for q in self._active if q.task == task)

    def all_including_retired(self) -> tuple[Question, ...]:
        return tuple(self._by_id.values())
