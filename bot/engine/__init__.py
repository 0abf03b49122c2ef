"""The quiz engine: rules of the game, free of platforms, storage and I/O.

Adapters call :class:`QuizEngine` and render the cards it returns; see docs/engine.md.
"""

from bot.engine.cards import (
    AnswerRefused,
    AnswerResult,
    FeedbackCard,
    LeaderboardCard,
    QuestionCard,
    RecordedCard,
    RevealCard,
    RoundBusy,
    SessionSummaryCard,
    StatsCard,
)
from bot.engine.model import FeedbackMode, LearnerRef, Period, PlaceRef, PlaceSettings, Scope
from bot.engine.questions import Question, QuestionBank, QuestionText
from bot.engine.service import QuizEngine

__all__ = [
    "AnswerRefused",
    "AnswerResult",
    "FeedbackCard",
    "FeedbackMode",
    "LeaderboardCard",
    "LearnerRef",
    "Period",
    "PlaceRef",
    "PlaceSettings",
    "Question",
    "QuestionBank",
    "QuestionCard",
    "QuestionText",
    "QuizEngine",
    "RecordedCard",
    "RevealCard",
    "RoundBusy",
    "Scope",
    "SessionSummaryCard",
    "StatsCard",
]
