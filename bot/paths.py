"""Where the bundled question bank and migrations live.

An installed wheel carries them inside the package (``bot/_bundled``); a source checkout
(editable install, tests) reads them from the repository's top-level folders. Both
layouts must work, so every caller asks here instead of guessing.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_REPO_ROOT = _PACKAGE_DIR.parent


def _locate(name: str) -> Path:
    for candidate in (_BUNDLED / name, _REPO_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the bundled '{name}' folder next to {_PACKAGE_DIR}")


def bundled_questions_dir() -> Path:
    return _locate("questions")


def migrations_dir() -> Path:
    return _locate("migrations")
