"""The progress chart: its data and labels read back from the figure before it is drawn
(English and Portuguese), a valid opaque PNG of the promised size, and WCAG contrast of
every text against the background."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from bot.adapters.charts import (
    BACKGROUND,
    HEIGHT_PX,
    MIN_TEXT_CONTRAST,
    TEXT_COLOURS,
    WIDTH_PX,
    contrast_ratio,
    figure_for,
    relative_luminance,
    render_png,
)
from bot.engine.cards import Accuracy, DayCount, ProgressCard

REPO = Path(__file__).resolve().parent.parent

FIRST_DAY = date(2026, 10, 28)
ANSWERS = {2: 4, 10: 1, 28: 2, 29: 3}  # day index → answers; every other day none


def card(locale: str = "en", name: str = "Ana") -> ProgressCard:
    return ProgressCard(
        display_name=name,
        by_task=(Accuracy("3.1", 4, 3), Accuracy("3.2", 10, 5), Accuracy("3.3", 0, 0), Accuracy("3.4", 2, 2)),
        days=tuple(DayCount(FIRST_DAY + timedelta(days=n), ANSWERS.get(n, 0), 0) for n in range(30)),
        timezone="America/Sao_Paulo",
        locale=locale,
    )


def texts(figure: Figure) -> list[Text]:
    return [
        text
        for text in figure.findobj(Text)
        if isinstance(text, Text) and text.get_visible() and text.get_text()
    ]


def heights(axes: Axes) -> list[float]:
    return [bar.get_height() for bar in axes.patches if isinstance(bar, Rectangle)]


def test_wcag_contrast_helper_matches_known_ratios() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")
    assert relative_luminance("#ff0000") == pytest.approx(0.2126)
    with pytest.raises(ValueError):
        relative_luminance("#fff")


def test_english_figure_holds_the_cards_figures_and_labels() -> None:
    figure = figure_for(card("en"))
    tasks, days = figure.axes
    assert figure.get_suptitle() == "Progress of Ana"
    assert tasks.get_title(loc="left") == "Accuracy per task statement (every answer)"
    assert tasks.get_ylabel() == "Correct answers (%)"
    assert [label.get_text() for label in tasks.get_xticklabels()] == [
        "Task 3.1",
        "Task 3.2",
        "Task 3.3",
        "Task 3.4",
    ]
    assert heights(tasks) == [75, 50, 0, 100]
    assert [text.get_text() for text in tasks.texts] == [
        "75% (3/4)",
        "50% (5/10)",
        "no answers",
        "100% (2/2)",
    ]
    assert days.get_title(loc="left") == "Answers per day, last 30 days (America/Sao_Paulo)"
    assert days.get_ylabel() == "Answers"
    assert heights(days) == [ANSWERS.get(n, 0) for n in range(30)]
    labels = [label.get_text() for label in days.get_xticklabels()]
    assert labels[-1] == "11/26" and labels[0] == "11/01"  # today is labelled, then every fifth day back
    assert len(labels) == 6


def test_portuguese_figure_speaks_portuguese() -> None:
    figure = figure_for(card("pt-BR"))
    tasks, days = figure.axes
    assert figure.get_suptitle() == "Progresso de Ana"
    assert tasks.get_title(loc="left") == "Acerto por tarefa (todas as respostas)"
    assert tasks.get_ylabel() == "Respostas corretas (%)"
    assert tasks.get_xticklabels()[0].get_text() == "Tarefa 3.1"
    assert [text.get_text() for text in tasks.texts][2] == "sem respostas"
    assert days.get_title(loc="left") == "Respostas por dia, últimos 30 dias (America/Sao_Paulo)"
    assert [label.get_text() for label in days.get_xticklabels()][-1] == "26/11"  # day/month


def test_a_name_with_dollar_signs_is_not_a_formula() -> None:
    png = render_png(card(name="$x^2$ Ana"))  # mathtext would have drawn a formula, or failed
    assert png.startswith(b"\x89PNG")
    assert figure_for(card(name="$x^2$ Ana")).get_suptitle() == "Progress of $x^2$ Ana"


def png_chunks(png: bytes) -> dict[bytes, bytes]:
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc, kind
        chunks.setdefault(kind, data)
        offset += 12 + length
    return chunks


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_png_is_valid_sized_and_opaque(locale: str) -> None:
    png = render_png(card(locale))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = png_chunks(png)
    assert b"IEND" in chunks
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth) == (WIDTH_PX, HEIGHT_PX, 8)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    if colour_type in (4, 6):  # grey or RGB with alpha: every pixel must be fully opaque
        assert image.getchannel("A").getextrema() == (255, 255)
    else:
        assert colour_type in (0, 2) and "transparency" not in image.info
    assert image.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # the white background


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_every_text_has_enough_contrast_on_an_opaque_background(locale: str) -> None:
    figure = figure_for(card(locale))
    assert to_hex(figure.get_facecolor(), keep_alpha=True) == BACKGROUND + "ff"
    for axes in figure.axes:
        assert to_hex(axes.get_facecolor(), keep_alpha=True) == BACKGROUND + "ff"
    figure.canvas.draw()  # lays out every tick label, so each one is checked
    shown = texts(figure)
    assert len(shown) > 20  # titles, axis labels, tick labels and bar values were all found
    for text in shown:
        colour = to_hex(text.get_color(), keep_alpha=True)
        assert colour.endswith("ff"), (text.get_text(), colour)  # no see-through text
        ratio = contrast_ratio(colour[:7], BACKGROUND)
        assert ratio >= MIN_TEXT_CONTRAST, (text.get_text(), colour, ratio)
    assert all(contrast_ratio(colour, BACKGROUND) >= MIN_TEXT_CONTRAST for colour in TEXT_COLOURS)


def test_a_learner_with_no_answers_gets_an_empty_but_valid_chart() -> None:
    empty = ProgressCard(
        "Nobody",
        tuple(Accuracy(k, 0, 0) for k in ("3.1", "3.2", "3.3", "3.4")),
        tuple(DayCount(FIRST_DAY + timedelta(days=n), 0, 0) for n in range(30)),
        "UTC",
        "en",
    )
    figure = figure_for(empty)
    assert [text.get_text() for text in figure.axes[0].texts] == ["no answers"] * 4
    assert figure.axes[1].get_ylim()[1] > 0
    assert render_png(empty).startswith(b"\x89PNG")


def test_starting_the_bot_does_not_import_matplotlib(repo_root: Path) -> None:
    """``quizbot run`` stays cheap to start: matplotlib comes only with the first chart."""
    modules = [
        "bot.cli",
        "bot.supervisor",
        "bot.runtime",
        "bot.adapters.charts",
        "bot.adapters.console.play",
        "bot.adapters.discord.client",
        "bot.adapters.slack.runner",
    ]
    code = f"import sys, {', '.join(modules)}; print(sorted(m for m in sys.modules if 'matplotlib' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_bot_draws_charts_in_a_worker_and_never_imports_matplotlib_itself(tmp_path: Path) -> None:
    """A chart drawn for /quiz stats must not leave matplotlib's ~55 MB in the bot."""
    script = (
        "import asyncio, sys\n"
        "from datetime import date\n"
        "from bot.adapters.chart_worker import draw_png\n"
        "from bot.engine.cards import Accuracy, DayCount, ProgressCard\n"
        "card = ProgressCard('Ana', tuple(Accuracy(t, 4, 3) for t in ('3.1', '3.2', '3.3', '3.4')),\n"
        "    (DayCount(date(2026, 11, 26), 5, 4),), 'UTC', 'pt-BR')\n"
        "png = asyncio.run(draw_png(card))\n"
        "print(len(png), png[:4] == b'\\x89PNG', 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    size, is_png, imported = done.stdout.split()
    assert int(size) > 1000 and is_png == "True" and imported == "False"
