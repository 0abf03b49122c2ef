"""The progress chart: a PNG of a ``ProgressCard`` that chat adapters attach to stats.

Two panels: accuracy per task statement (bars, every answer) and answers per day over the
card's days (bars, zero days included). Drawn with matplotlib's Agg canvas on a figure of
its own (never pyplot's global state, so threads can draw side by side), on an opaque
white background, with every text colour at least 4.5:1 against it (WCAG AA).

matplotlib costs about 0.4 s and 55 MB to import: it is imported here only when a chart
is drawn, never when the bot starts (a test checks ``quizbot run``'s modules).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.engine.cards import ProgressCard
from bot.i18n import t

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FILENAME = "quizbot-progress.png"
WIDTH_PX, HEIGHT_PX, DPI = 900, 700, 100
BACKGROUND = "#ffffff"
TEXT = "#1f2328"  # titles, labels, values: 15.8:1 on white
SECONDARY_TEXT = "#4f5660"  # tick labels: 7.3:1 on white
TEXT_COLOURS = (TEXT, SECONDARY_TEXT)
TASK_BAR = "#1d5fa8"  # bars: 6.4:1, well above the 3:1 WCAG asks of graphics
DAY_BAR = "#2e6b3a"  # 6.6:1
GRID = "#d8dee4"  # decoration only
DAY_LABEL_EVERY = 5  # label every fifth day, counted back from today
MIN_TEXT_CONTRAST = 4.5


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an ``#rrggbb`` colour."""
    digits = colour.lstrip("#")
    if len(digits) != 6:
        raise ValueError(f"expected #rrggbb, got {colour!r}")
    red, green, blue = (_linear(int(digits[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def alt_text(card: ProgressCard) -> str:
    """A description of the chart for screen readers (Discord's and Slack's alt text)."""
    return t(card.locale, "chart.alt", name=card.display_name, days=len(card.days))


def figure_for(card: ProgressCard) -> Figure:
    """The chart as a matplotlib figure, not yet drawn: its bars, titles and labels can be
    read back (tests do) before ``render_png`` turns it into pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND, layout="constrained"
    )
    FigureCanvasAgg(figure)
    figure.suptitle(
        t(card.locale, "chart.title", name=card.display_name),
        color=TEXT,
        fontsize=15,
        fontweight="bold",
        parse_math=False,  # a display name with "$" signs is a name, not a formula
    )
    tasks, days = figure.subplots(2, 1)
    _draw_tasks(tasks, card)
    _draw_days(days, card)
    return figure


def render_png(card: ProgressCard) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX, opaque. CPU-bound: adapters run it in
    a worker thread."""
    buffer = io.BytesIO()
    figure_for(card).savefig(
        buffer, format="png", dpi=DPI, facecolor=BACKGROUND, transparent=False, metadata={"Software": None}
    )
    return buffer.getvalue()


def _style(axes: Axes, title: str, ylabel: str) -> None:
    axes.set_facecolor(BACKGROUND)
    axes.set_title(title, color=TEXT, fontsize=12, loc="left")
    axes.set_ylabel(ylabel, color=TEXT)
    axes.tick_params(colors=SECONDARY_TEXT, labelcolor=SECONDARY_TEXT)
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)
    for spine in ("left", "bottom"):
        axes.spines[spine].set_color(SECONDARY_TEXT)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)


def _draw_tasks(axes: Axes, card: ProgressCard) -> None:
    locale = card.locale
    _style(axes, t(locale, "chart.tasks.title"), t(locale, "chart.tasks.axis"))
    positions = list(range(len(card.by_task)))
    bars = axes.bar(positions, [task.percent for task in card.by_task], color=TASK_BAR, width=0.6)
    axes.set_xticks(positions, [t(locale, "chart.task", key=task.key) for task in card.by_task])
    axes.set_ylim(0, 115)  # room for the value above a full bar
    axes.set_yticks([0, 25, 50, 75, 100])
    values = [
        t(locale, "chart.task_value", percent=task.percent, correct=task.correct, attempts=task.attempts)
        if task.attempts
        else t(locale, "chart.task_none")
        for task in card.by_task
    ]
    axes.bar_label(bars, labels=values, padding=3, color=TEXT, fontsize=10)


def _draw_days(axes: Axes, card: ProgressCard) -> None:
    from matplotlib.ticker import MaxNLocator

    locale = card.locale
    _style(
        axes,
        t(locale, "chart.days.title", days=len(card.days), zone=card.timezone),
        t(locale, "chart.days.axis"),
    )
    positions = list(range(len(card.days)))
    axes.bar(positions, [day.answered for day in card.days], color=DAY_BAR, width=0.7)
    labelled = positions[::-1][::DAY_LABEL_EVERY][::-1]
    axes.set_xticks(
        labelled,
        [t(locale, "chart.day", day=card.days[i].day.day, month=card.days[i].day.month) for i in labelled],
    )
    axes.set_xlim(-0.6, len(card.days) - 0.4)
    axes.set_ylim(0, max([day.answered for day in card.days] + [1]) * 1.1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
