"""Message catalogs (English, Portuguese (Brazil)) for everything a learner reads.

Adapters render cards with :func:`t`; a key missing from a catalog falls back to
English rather than showing a key name to a learner (a test keeps catalogs in step).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n.en import MESSAGES as EN
from bot.i18n.pt_br import MESSAGES as PT_BR

CATALOGS: Mapping[str, Mapping[str, str]] = {"en": EN, "pt-BR": PT_BR}


def t(locale: str, key: str, /, **values: object) -> str:
    catalog = CATALOGS.get(locale, EN)
    template = catalog.get(key) or EN[key]
    return template.format(**values) if values else template
