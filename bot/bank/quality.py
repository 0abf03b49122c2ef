"""Quality measures over a whole bank: the figures ``quizbot questions stats`` prints and
the gates the bank's tests enforce.

They catch the known faults of public question sets: a key that is usually the longest
option, keys that sit in one position, untranslated text, outdated service names,
references to arbitrary sites and near-duplicate stems.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations, pairwise
from pathlib import Path
from urllib.parse import urlsplit

from bot.engine.questions import Question
from bot.paths import bundled_questions_dir

NEAR_DUPLICATE_THRESHOLD = 0.65
"""TF-IDF cosine similarity of two stems (content words and word pairs, weighted by how
rare they are in the bank) at or above which they count as near-duplicates. Pinned by
tests with reworded pairs that must match and distinct pairs that must not."""

_EN_WORDS = frozenset(
    """the a an of to and is are which what that with for in on by this it be or as from
    should can does will when how company wants model data""".split()
)
_PT_WORDS = frozenset(
    """o a os as de do da dos das para que com em um uma é são qual quais no na pelo pela
    deve pode empresa quer modelo dados""".split()
)
_STOP = _EN_WORDS | _PT_WORDS


@dataclass(frozen=True)
class GateFigures:
    active: int
    single: int
    multiple: int
    scenario: int
    longest_correct: int  # single questions whose key is the (joint) longest option
    key_share: dict[str, float]  # share of correct keys by authored position
    expected_share: dict[str, float]  # share expected if keys were placed at random

    @property
    def multiple_share(self) -> float:
        return self.multiple / self.active if self.active else 0.0

    @property
    def scenario_share(self) -> float:
        return self.scenario / self.active if self.active else 0.0

    @property
    def longest_correct_share(self) -> float:
        return self.longest_correct / self.single if self.single else 0.0

    @property
    def worst_key_gap(self) -> float:
        """Largest distance, in percentage points, of a position's share from random."""
        return max(
            (abs(self.key_share.get(k, 0) - v) * 100 for k, v in self.expected_share.items()), default=0
        )


def key_is_longest(question: Question, locale: str = "en") -> bool:
    options = question.text(locale).options
    (key,) = question.answer
    return len(options[key]) >= max(len(text) for text in options.values())


def gate_figures(questions: Sequence[Question]) -> GateFigures:
    singles = [q for q in questions if q.type == "single"]
    actual: Counter[str] = Counter()
    expected: dict[str, float] = {}
    for q in questions:
        actual.update(q.answer)
        for key in q.option_keys:
            expected[key] = expected.get(key, 0.0) + len(q.answer) / len(q.option_keys)
    total = sum(actual.values()) or 1
    return GateFigures(
        active=len(questions),
        single=len(singles),
        multiple=len(questions) - len(singles),
        scenario=sum(q.style == "scenario" for q in questions),
        longest_correct=sum(key_is_longest(q) for q in singles),
        key_share={k: actual[k] / total for k in sorted(expected)},
        expected_share={k: expected[k] / total for k in sorted(expected)},
    )


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return re.findall(r"[a-zà-ÿ]+", folded)


def language_scores(text: str) -> tuple[float, float]:
    """Shares of English and Portuguese function words: a translated text is dominated by
    its own language's, an untranslated copy by the other's."""
    words = [w for w in re.findall(r"[a-zà-úç]+", text.casefold())]
    if not words:
        return 0.0, 0.0
    return (sum(w in _EN_WORDS for w in words) / len(words), sum(w in _PT_WORDS for w in words) / len(words))


def language_problems(question: Question) -> list[str]:
    problems = []
    for locale, own in (("en", 0), ("pt-BR", 1)):
        text = question.text(locale)
        body = " ".join([text.stem, text.why, *text.options.values()])
        scores = language_scores(body)
        if scores[own] <= scores[1 - own]:
            problems.append(f"{locale} text does not read as {'English' if own == 0 else 'Portuguese'}")
    return problems


@cache
def reference_hosts(path: Path | None = None) -> frozenset[str]:
    source = path or bundled_questions_dir() / "reference-hosts.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def reference_problems(question: Question, hosts: frozenset[str] | None = None) -> list[str]:
    allowed = hosts if hosts is not None else reference_hosts()
    problems = []
    for url in question.references:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or " " in url:
            problems.append(f"malformed reference {url!r}")
        elif parts.hostname not in allowed:
            problems.append(f"reference host {parts.hostname} is not on the allow-list")
    return problems


@cache
def outdated_patterns(path: Path | None = None) -> tuple[tuple[re.Pattern[str], str], ...]:
    source = path or bundled_questions_dir() / "outdated-names.txt"
    patterns = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, _, current = line.partition(" => ")
        patterns.append((re.compile(pattern.strip(), re.IGNORECASE), current.strip()))
    return tuple(patterns)


def outdated_name_problems(question: Question) -> list[str]:
    problems = []
    for locale, text in question.texts.items():
        body = " ".join([text.stem, text.why, *text.options.values(), *text.why_wrong.values()])
        for pattern, current in outdated_patterns():
            found = pattern.search(body)
            if found:
                problems.append(f"{locale}: outdated name {found.group(0)!r}; use {current}")
    return problems


def _terms(text: str) -> list[str]:
    """Content words cut to six letters (a cheap stemmer), plus adjacent pairs of them."""
    words = [w[:6] for w in _words(text) if w not in _STOP]
    return words + [f"{a}_{b}" for a, b in pairwise(words)]


class StemIndex:
    """TF-IDF vectors of stems. Words that many stems share ("which", "Amazon Bedrock",
    "Select TWO") weigh little, so template stems about different things stay apart while
    a reworded copy of one question still matches it."""

    def __init__(self, corpus: Iterable[str]) -> None:
        documents = [Counter(_terms(text)) for text in corpus]
        self._size = len(documents)
        self._df: Counter[str] = Counter(term for doc in documents for term in doc)

    def vector(self, text: str) -> dict[str, float]:
        return {
            term: count * (math.log((self._size + 1) / (self._df[term] + 1)) + 1)
            for term, count in Counter(_terms(text)).items()
        }

    def similarity(self, first: str, second: str) -> float:
        return _cosine(self.vector(first), self.vector(second))


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    norm = math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


@cache
def _bundled_index() -> StemIndex:
    from bot.bank.loader import load_bank

    return StemIndex(q.text("en").stem for q in load_bank().all_including_retired())


def similarity(first: str, second: str) -> float:
    """Similarity of two English stems, weighted by the bundled bank's vocabulary."""
    return _bundled_index().similarity(first, second)


def near_duplicates(
    questions: Iterable[Question], threshold: float = NEAR_DUPLICATE_THRESHOLD, locale: str = "en"
) -> list[tuple[str, str, float]]:
    chosen = list(questions)
    index = StemIndex(q.text(locale).stem for q in chosen)
    vectors = [(q.id, index.vector(q.text(locale).stem)) for q in chosen]
    found = []
    for (id_a, a), (id_b, b) in combinations(vectors, 2):
        score = _cosine(a, b)
        if score >= threshold:
            found.append((id_a, id_b, round(score, 3)))
    return found
