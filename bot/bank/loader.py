"""Load and validate question files.

A bank is all or nothing: every problem in every file is collected and reported with
its file, question id and field, and nothing is loaded if any is found. A half-loaded
bank would shift learners' history onto the wrong questions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.engine.questions import Question, QuestionBank, QuestionText
from bot.paths import bundled_questions_dir

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

RESERVED_PREFIX = "aif-"
LOCALES = ("en", "pt-BR")
SELECT_WORDS = {2: ("TWO", "DUAS"), 3: ("THREE", "TRÊS")}
ABOVE = re.compile(
    r"\b(all|none|both) of the above\b|\b(todas|nenhuma|ambas) (as|das) (anteriores|alternativas)\b",
    re.IGNORECASE,
)
LETTER_NAMED = re.compile(r"\b(?i:option|answer|choice|opção|alternativa|resposta|letra)\s+\(?[A-F]\)?\b")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    question_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: question {self.question_id or '-'}: {self.field}: {self.message}"


class BankError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        summary = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the question bank has {len(self.problems)} problem(s):\n{summary}")


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((bundled_questions_dir() / "schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def question_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return files


def _field_path(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path) or "(file)"


def _schema_problems(name: str, data: Any) -> list[Problem]:
    problems = []
    for error in _schema_validator().iter_errors(data):
        parts = list(error.absolute_path)
        question_id = ""
        if len(parts) >= 2 and parts[0] == "questions" and isinstance(parts[1], int):
            entry = data["questions"][parts[1]]
            question_id = (
                str(entry.get("id", f"#{parts[1] + 1}")) if isinstance(entry, dict) else f"#{parts[1] + 1}"
            )
            parts = parts[2:]
        problems.append(Problem(name, question_id, _field_path(parts), error.message))
    return problems


def _rule_problems(name: str, q: Mapping[str, Any], bundled: bool) -> list[Problem]:
    qid = q["id"]
    out: list[Problem] = []

    def bad(field: str, message: str) -> None:
        out.append(Problem(name, qid, field, message))

    if bundled != qid.startswith(RESERVED_PREFIX):
        bad(
            "id",
            f"ids starting with '{RESERVED_PREFIX}' are reserved for the bundled bank"
            if not bundled
            else f"bundled ids must start with '{RESERVED_PREFIX}'",
        )
    if not q["objective"].startswith(q["task"] + "."):
        bad("objective", f"{q['objective']} is not an objective of task {q['task']}")
    answer = q["answer"]
    keys = sorted(q["en"]["options"])
    expected_keys = list("abcdef"[: len(keys)])
    if keys != expected_keys:
        bad("en.options", f"option keys must be {', '.join(expected_keys)} in order, got {', '.join(keys)}")
    if q["type"] == "single" and (len(keys) != 4 or len(answer) != 1):
        bad("type", "a single-answer question has 4 options and 1 correct key")
    if q["type"] == "multiple" and (len(keys) not in (5, 6) or len(answer) not in (2, 3)):
        bad("type", "a multiple-response question has 5–6 options and 2–3 correct keys")
    for key in answer:
        if key not in q["en"]["options"]:
            bad("answer", f"correct key '{key}' is not one of the options ({', '.join(keys)})")
    for locale in LOCALES:
        text = q[locale]
        if sorted(text["options"]) != keys:
            bad(f"{locale}.options", "option keys differ from the English ones")
        wrong = sorted(set(text["options"]) - set(answer))
        if sorted(text["why_wrong"]) != wrong:
            bad(f"{locale}.why_wrong", f"needs exactly one line for each wrong option: {', '.join(wrong)}")
        normalised = [v.strip().casefold() for v in text["options"].values()]
        if len(set(normalised)) != len(normalised):
            bad(f"{locale}.options", "an option is repeated")
        every = [text["stem"], *text["options"].values()]
        if any(ABOVE.search(t) for t in every):
            bad(f"{locale}.options", "no 'all/none of the above': options are shuffled")
        for field in ("why", "why_wrong"):
            values = [text["why"]] if field == "why" else list(text["why_wrong"].values())
            if any(LETTER_NAMED.search(v) for v in values):
                bad(f"{locale}.{field}", "names an option by letter; options are shuffled, name the content")
    if q["type"] == "multiple" and len(answer) in SELECT_WORDS:
        en_word, pt_word = SELECT_WORDS[len(answer)]
        if not q["en"]["stem"].rstrip().endswith(f"(Select {en_word}.)"):
            bad("en.stem", f"must end with '(Select {en_word}.)' for {len(answer)} correct keys")
        if not q["pt-BR"]["stem"].rstrip().endswith(f"(Selecione {pt_word}.)"):
            bad("pt-BR.stem", f"must end with '(Selecione {pt_word}.)' for {len(answer)} correct keys")
    return out


def _question(name: str, q: Mapping[str, Any]) -> Question:
    return Question(
        id=q["id"],
        task=q["task"],
        objective=q["objective"],
        type=q["type"],
        difficulty=q["difficulty"],
        style=q["style"],
        answer=frozenset(q["answer"]),
        option_keys=tuple(sorted(q["en"]["options"])),
        references=tuple(q["references"]),
        texts={
            locale: QuestionText(
                stem=q[locale]["stem"].strip(),
                options={k: v.strip() for k, v in q[locale]["options"].items()},
                why=q[locale]["why"].strip(),
                why_wrong={k: v.strip() for k, v in q[locale]["why_wrong"].items()},
            )
            for locale in LOCALES
        },
        retired=bool(q.get("retired", False)),
        source=name,
    )


def _read(path: Path, bundled: bool, problems: list[Problem]) -> list[Question]:
    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(name, "", "(file)", f"cannot read: {error}"))
        return []
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problems.append(
            Problem(name, "", "(file)", f"invalid YAML{line}: {getattr(error, 'problem', error)}")
        )
        return []
    found = _schema_problems(name, data)
    if found:
        problems.extend(found)
        return []
    questions = []
    for entry in data["questions"]:
        rules = _rule_problems(name, entry, bundled)
        problems.extend(rules)
        if not rules:
            questions.append(_question(name, entry))
    return questions


def _collect(sources: Sequence[tuple[Path, bool]]) -> tuple[list[Question], list[Problem]]:
    problems: list[Problem] = []
    questions: list[Question] = []
    first_seen: dict[str, str] = {}
    for path, bundled in sources:
        for question in _read(path, bundled, problems):
            if question.id in first_seen:
                problems.append(
                    Problem(
                        str(path),
                        question.id,
                        "id",
                        f"duplicate id, first defined in {first_seen[question.id]}",
                    )
                )
            else:
                first_seen[question.id] = str(path)
                questions.append(question)
    return questions, problems


def load_bank(extra_dirs: Sequence[Path] = (), bundled_dir: Path | None = None) -> QuestionBank:
    """The bundled bank plus any custom directories; raises BankError, loading nothing."""
    sources = [(f, True) for f in question_files([bundled_dir or bundled_questions_dir()])]
    sources += [(f, False) for f in question_files(extra_dirs)]
    questions, problems = _collect(sources)
    if problems:
        raise BankError(problems)
    return QuestionBank(questions)


def _sources(paths: Sequence[Path]) -> list[tuple[Path, bool]]:
    """Files inside the bundled folder may use the reserved prefix; any others may not."""
    bundled_root = bundled_questions_dir().resolve()
    return [(f, f.resolve().is_relative_to(bundled_root)) for f in question_files(paths)]


def validate_paths(paths: Sequence[Path]) -> list[Problem]:
    """Check files or folders for ``quizbot questions validate``."""
    sources = _sources(paths)
    if not sources:
        return [Problem(", ".join(map(str, paths)), "", "(path)", "no .yaml question files found")]
    _, problems = _collect(sources)
    return problems


def load_paths(paths: Sequence[Path]) -> QuestionBank:
    """Only the questions in these files or folders (for reports and exports)."""
    questions, problems = _collect(_sources(paths))
    if problems:
        raise BankError(problems)
    return QuestionBank(questions)
