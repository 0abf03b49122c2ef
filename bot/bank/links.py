"""``quizbot questions check-links``: do the bank's references still answer?

CI has no internet, so this is a maintainer's command, run where there is. Some sites
refuse HEAD requests; those get a GET before being called broken.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

USER_AGENT = "quizbot-link-check/1"


@dataclass(frozen=True)
class LinkResult:
    url: str
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


def _fetch(url: str, method: str, timeout: float) -> int:
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def check_url(url: str, timeout: float = 15.0) -> LinkResult:
    for method in ("HEAD", "GET"):
        try:
            return LinkResult(url, _fetch(url, method, timeout), None)
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code in (403, 405, 501):
                continue
            return LinkResult(url, error.code, str(error.reason))
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return LinkResult(url, None, str(getattr(error, "reason", error)))
    return LinkResult(url, None, "no answer")


def check_urls(urls: Iterable[str], timeout: float = 15.0, workers: int = 8) -> list[LinkResult]:
    unique = sorted(set(urls))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda url: check_url(url, timeout), unique))
