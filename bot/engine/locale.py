"""Which language a card speaks: the learner's wins, then the place's, then the default."""

from __future__ import annotations

SUPPORTED = ("en", "pt-BR")


def normalise_locale(value: str | None) -> str | None:
    """Map platform locale codes (``pt-BR``, ``pt_BR``, ``pt``, ``en-US``) to ours."""
    if not value:
        return None
    lowered = value.replace("_", "-").lower()
    if lowered.startswith("pt"):
        return "pt-BR"
    if lowered.startswith("en"):
        return "en"
    return None


def resolve_locale(learner: str | None, place: str | None, default: str) -> str:
    for candidate in (learner, place):
        chosen = normalise_locale(candidate)
        if chosen:
            return chosen
    return normalise_locale(default) or "en"
