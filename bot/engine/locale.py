"""Which language a card speaks: the learner's wins, then the place's, then the default."""

from __future__ import annotations

import re
from functools import lru_cache

SUPPORTED = ("en", "pt-BR")
_LOCALE = re.compile(r"(en|pt)(?:[-_][A-Za-z]{2,4})?", re.IGNORECASE)


@lru_cache(maxsize=256)  # platforms send a handful of codes, and every answer asks
def normalise_locale(value: str | None) -> str | None:
    """Map platform locale codes (``pt-BR``, ``pt_BR``, ``pt``, ``en-US``) to ours."""
    if not value:
        return None
    match = _LOCALE.fullmatch(value.strip())
    if match is None:
        return None
    return "pt-BR" if match.group(1).lower() == "pt" else "en"


def resolve_locale(learner: str | None, place: str | None, default: str) -> str:
    for candidate in (learner, place):
        chosen = normalise_locale(candidate)
        if chosen:
            return chosen
    return normalise_locale(default) or "en"
