"""Usage charts for admins reviewing spend: what the model calls cost, day by day and by whom.

`cost_chart_png` draws one 1600×900 PNG with two panels. On the left, cost per UTC day as
stacked bars, one colour per series (a person or a kind of request; the ten costliest, the
rest merged into "Others"), so a spike and its cause are visible at a glance and quiet days
show as empty slots. On the right, the same ten by cost, in the same colours, with the exact
amount on each bar and, optionally, a line at the monthly budget.

Costs arrive as whole nano-dollars, as the store keeps them; sums stay in integers and amounts
are converted with Decimal, floats exist only for the plot itself. Drawn with matplotlib's
object-oriented API on the Agg canvas and never pyplot: no GUI backend, no global figure
registry, nothing to leak between calls or threads. Importing this module imports matplotlib
(about a second), so import it lazily, only when a chart is wanted.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import pairwise

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import Formatter

from bot.pricing import format_usd

DailyRow = tuple[str, str, int]  # (day YYYY-MM-DD in UTC, series label, cost in nano-USD)
TopRow = tuple[str, int]  # (label, cost in nano-USD)
PostedRow = tuple[str, int, int]  # (kind, drafts posted, drafts made)

TOP_N = 10
MAX_SERIES = TOP_N  # the same people (or kinds) on both panels
OTHERS = "Others"
LABEL_CHARS = 24
WIDTH_IN, HEIGHT_IN, DPI = 16, 9, 100

# Okabe–Ito's eight colours, which stay distinct under the common colour-vision deficiencies,
# then two of Paul Tol's (wine, teal) for the ninth and tenth.
_PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9",
    "#CC79A7", "#F0E442", "#000000", "#882255", "#44AA99",
)  # fmt: skip
_OTHERS_COLOUR = "#BBBBBB"
_BUDGET_COLOUR = "#555555"  # dark grey: no person or kind has it
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_X_LABELS = 16
# Used, in this order, for glyphs DejaVu Sans lacks, if the host has them (e.g. fonts-noto-cjk).
_FALLBACK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
_MISSING_GLYPH = "\N{WHITE SQUARE}"


def usd(nano_usd: int) -> Decimal:
    """Exact dollars from whole nano-dollars."""
    return Decimal(nano_usd).scaleb(-9)


def top_series(daily: Iterable[DailyRow], limit: int = MAX_SERIES) -> list[str]:
    """The `limit` labels with the highest total cost, costliest first (ties by label)."""
    totals: dict[str, int] = defaultdict(int)
    for _day, label, nano_usd in daily:
        totals[label] += nano_usd
    return sorted(totals, key=lambda label: (-totals[label], label))[:limit]


def daily_matrix(
    daily: Iterable[DailyRow], days: Sequence[str], series: Sequence[str]
) -> dict[str, list[int]]:
    """Nano-USD per day, aligned with `days`, for each of `series` in order.

    Rows for labels not in `series` are summed into a last entry, `OTHERS`, present only if
    there are such rows. Repeated (day, label) rows add up. A day missing from `days` raises
    ValueError: silently dropping cost would misreport spend.
    """
    index = {day: i for i, day in enumerate(days)}
    kept = set(series)
    matrix = {label: [0] * len(days) for label in series}
    others = OTHERS if OTHERS not in kept else f"{OTHERS} (rest)"
    for day, label, nano_usd in daily:
        if day not in index:
            raise ValueError(f"usage on {day!r}, which is not one of the chart's days")
        row = matrix[label] if label in kept else matrix.setdefault(others, [0] * len(days))
        row[index[day]] += nano_usd
    return matrix


def cost_chart_figure(
    title: str,
    daily: Sequence[DailyRow],
    top: Sequence[TopRow],
    series_name: str = "person",
    days: Sequence[str] | None = None,
    budget_nano_usd: int | None = None,
    posted: Sequence[PostedRow] = (),
) -> Figure:
    """The chart as a matplotlib Figure (on an Agg canvas); see `cost_chart_png`."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(_display(title, limit=None), fontsize=18, fontweight="bold")
    if not daily and not top:
        fig.text(0.5, 0.5, "No usage in this period", ha="center", va="center", fontsize=28)
    else:
        grid = fig.add_gridspec(1, 3 if posted else 2, width_ratios=(2, 1, 1)[: 3 if posted else 2])
        if days is None:
            days = sorted({day for day, _label, _cost in daily})
        colours = _draw_daily(fig.add_subplot(grid[0, 0]), daily, days, series_name)
        _draw_top(fig.add_subplot(grid[0, 1]), top, series_name, colours, budget_nano_usd)
        if posted:
            _draw_posted(fig.add_subplot(grid[0, 2]), posted)
    families, _covered = _fonts()
    for text in fig.findobj(Text):
        text.set_fontfamily(list(families))
    return fig


def cost_chart_png(
    title: str,
    daily: Sequence[DailyRow],
    top: Sequence[TopRow],
    series_name: str = "person",
    days: Sequence[str] | None = None,
    budget_nano_usd: int | None = None,
    posted: Sequence[PostedRow] = (),
) -> bytes:
    """PNG bytes, 1600×900: stacked cost per day by series (left), top ten by cost (right).

    `daily` holds (YYYY-MM-DD UTC, label, nano-USD) rows, `top` (label, nano-USD) rows sorted
    costliest first, `series_name` is "person" or "kind", and `days`, if given, lists every
    day of the period in order so days without usage still get a slot; `budget_nano_usd`, if
    given, draws a dashed line at that amount on the top panel (a per-person monthly budget).
    `posted`, if given, adds a third panel: the share of each kind's drafts that were posted.
    With no data at all the figure just says "No usage in this period".
    """
    fig = cost_chart_figure(title, daily, top, series_name, days, budget_nano_usd, posted)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI)
    finally:
        fig.clear()
    return buffer.getvalue()


def _draw_daily(
    ax: Axes, daily: Sequence[DailyRow], days: Sequence[str], series_name: str
) -> dict[str, str]:
    """Stacked bars; returns the colour given to each kept series label."""
    matrix = daily_matrix(daily, days, top_series(daily))
    positions = list(range(len(days)))
    stacked = [0] * len(days)
    colours: dict[str, str] = {}
    handles, labels = [], []
    for i, (label, row) in enumerate(matrix.items()):
        colour = _PALETTE[i] if i < len(_PALETTE) else _OTHERS_COLOUR
        colours[label] = colour
        # One collection per series rather than ax.bar's one patch per day: 90 days × 9
        # series would otherwise be 810 artists and most of the drawing time.
        boxes = []
        for x, (below, cost) in enumerate(zip(stacked, row, strict=True)):
            if cost:
                bottom, top = float(usd(below)), float(usd(below + cost))
                boxes.append([(x - 0.4, bottom), (x - 0.4, top), (x + 0.4, top), (x + 0.4, bottom)])
        stacked = [below + cost for below, cost in zip(stacked, row, strict=True)]
        ax.add_collection(
            PolyCollection(boxes, facecolors=colour, edgecolors="white", linewidths=0.4),
            autolim=False,
        )
        handles.append(Patch(facecolor=colour))
        labels.append(_display(label))

    # Daily, every other day, ..., weekly: at most _MAX_X_LABELS dates, horizontal and legible.
    steps = (s for s in (1, 2, 3, 7, 14, 28) if len(days) <= s * _MAX_X_LABELS)
    step = next(steps, math.ceil(len(days) / _MAX_X_LABELS))
    ticks = positions[::step]
    ax.set_xticks(ticks, [_day_label(days[i]) for i in ticks])
    ax.set_xlim(-0.6, max(len(days), 1) - 0.4)
    highest = max(stacked, default=0)
    # Headroom above the tallest bar for the legend in the top-left corner.
    ax.set_ylim(0, float(usd(highest)) * 1.3 if highest > 0 else 0.01)
    ax.yaxis.set_major_formatter(_DollarTicks())
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Cost per day by {_display(series_name, limit=None)}", fontsize=14)
    ax.set_xlabel("Day (UTC)")
    ax.set_ylabel("Cost (USD)")
    if handles:
        ax.legend(
            handles,
            labels,
            title=_display(series_name.capitalize(), limit=None),
            loc="upper left",
            ncols=min(3, len(handles)),
            fontsize=10,
            title_fontsize=11,
        )
    return colours


def _draw_top(
    ax: Axes,
    top: Sequence[TopRow],
    series_name: str,
    colours: dict[str, str],
    budget_nano_usd: int | None,
) -> None:
    """Horizontal bars, costliest at the top, each labelled with its amount."""
    plural = "people" if series_name == "person" else f"{series_name}s"
    ax.set_title(f"Top {_display(plural, limit=None)} by cost", fontsize=14)
    rows = list(top[:TOP_N])
    if not rows:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No usage", ha="center", va="center", transform=ax.transAxes)
        return
    positions = list(range(len(rows)))
    widths = [float(usd(cost)) for _label, cost in rows]
    bar_colours = [colours.get(label, _OTHERS_COLOUR) for label, _cost in rows]
    bars = ax.barh(positions, widths, 0.7, color=bar_colours)
    ax.bar_label(bars, [format_usd(cost) for _label, cost in rows], padding=4, fontsize=10)
    ax.set_yticks(positions, [_display(label) for label, _cost in rows])
    # Always ten slots, costliest at the top, so bars keep one thickness however many there are.
    ax.set_ylim(TOP_N - 0.5, -0.5)
    highest = max(widths)
    if budget_nano_usd is not None and budget_nano_usd > 0:
        budget = float(usd(budget_nano_usd))
        label = _display(f"Monthly budget {format_usd(budget_nano_usd)}", limit=None)
        ax.axvline(budget, color=_BUDGET_COLOUR, linestyle="--", linewidth=1.5, label=label)
        ax.legend(loc="lower right", fontsize=10)
        highest = max(highest, budget)
    ax.set_xlim(0, highest * 1.35 if highest > 0 else 1)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)


def _draw_posted(ax: Axes, rows: Sequence[PostedRow]) -> None:
    """Posted share by kind, lowest at the top (the kinds that earn their cost least), each
    bar labelled "77% (241 of 312)"."""
    ax.set_title("Posted share by kind", fontsize=14)
    shown = sorted((row for row in rows if row[2]), key=lambda row: (row[1] / row[2], row[0]))
    shown = shown[:TOP_N]
    if not shown:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No drafts", ha="center", va="center", transform=ax.transAxes)
        return
    positions = list(range(len(shown)))
    shares = [posted / made for _kind, posted, made in shown]
    bars = ax.barh(positions, shares, 0.7, color=_PALETTE[0])
    labels = [
        f"{share:.0%} ({posted:,} of {made:,})"
        for share, (_k, posted, made) in zip(shares, shown, strict=True)
    ]
    ax.bar_label(bars, labels, padding=4, fontsize=10)
    ax.set_yticks(positions, [_display(kind) for kind, _posted, _made in shown])
    ax.set_ylim(TOP_N - 0.5, -0.5)
    ax.set_xlim(0, 1.6)  # room for the labels beyond a full bar
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)


class _DollarTicks(Formatter):
    """$0.00 ticks, with as many more decimals as the tick spacing needs (up to nano-dollars)."""

    def __init__(self) -> None:
        self.places = 2

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        values = sorted(locs)
        tolerance = min((b - a for a, b in pairwise(values) if b > a), default=1.0) * 1e-3
        self.places = next(
            (p for p in range(2, 10) if all(abs(round(v, p) - v) <= tolerance for v in values)), 9
        )

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"${x:,.{self.places}f}"


def _day_label(day: str) -> str:
    """'2026-11-03' -> 'Nov 3' (fixed English month names, whatever the locale)."""
    parsed = date.fromisoformat(day)
    return f"{_MONTHS[parsed.month - 1]} {parsed.day}"


def _display(text: str, limit: int | None = LABEL_CHARS) -> str:
    """Text safe to draw: one line, at most `limit` characters, no mathtext, no missing glyphs.

    Characters no available font has become a white square (what the font would draw anyway)
    instead of a "missing glyph" warning per character.
    """
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if limit is not None and not text:
        text = "(none)"
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    _families, covered = _fonts()
    text = "".join(c if ord(c) in covered else _MISSING_GLYPH for c in text)
    return text.replace("$", r"\$")


@cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """Font families to draw with (DejaVu Sans, then any installed CJK fallbacks) and the
    code points they cover between them."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    families: list[str] = []
    covered: set[int] = set()
    for family in ("DejaVu Sans", *_FALLBACK_FAMILIES):
        if family not in installed:
            continue
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
            covered.update(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):
            continue
        families.append(family)
    return tuple(families) or ("DejaVu Sans",), frozenset(covered)
