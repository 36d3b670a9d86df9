"""The admins' cost chart: a real 1600×900 PNG, honest totals, and no surprises from odd labels."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from PIL import Image, ImageStat

from bot.charts import (
    OTHERS,
    DailyRow,
    TopRow,
    cost_chart_figure,
    cost_chart_png,
    daily_matrix,
    format_usd,
    top_series,
)

# Any warning (a missing glyph, a layout that could not be applied) fails these tests.
pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOVEMBER = [f"2026-11-{day:02d}" for day in range(1, 31)]
DOLLAR = 1_000_000_000  # nano-USD


def top_of(daily: list[DailyRow], n: int = 10) -> list[TopRow]:
    totals: dict[str, int] = defaultdict(int)
    for _day, label, cost in daily:
        totals[label] += cost
    return sorted(totals.items(), key=lambda item: -item[1])[:n]


def usage(days: list[str], people: list[str], seed: int = 7) -> list[DailyRow]:
    rng = random.Random(seed)
    return [
        (day, person, rng.randint(1_000_000, 5 * DOLLAR))
        for day in days
        for person in people
        if rng.random() < 0.6
    ]


def image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    picture = Image.open(io.BytesIO(png))
    picture.load()
    return picture


@pytest.fixture(scope="module")
def month_png() -> bytes:
    daily = usage(NOVEMBER, ["Alex Chen", "Sam", "José Núñez", "Priya", "Kim"])
    return cost_chart_png(
        title="Draftbot usage · November 2026 (this month)",
        daily=daily,
        top=top_of(daily),
        series_name="person",
        days=NOVEMBER,
    )


def test_chart_is_a_1600_by_900_png_with_visible_bars(month_png: bytes) -> None:
    picture = image(month_png)
    assert picture.size == (1600, 900)
    rgb = picture.convert("RGB")
    assert len(rgb.getcolors(maxcolors=1_000_000) or []) > 100  # bars, text, antialiasing
    assert max(ImageStat.Stat(rgb).stddev) > 40  # not a blank canvas
    assert (0x00, 0x72, 0xB2) in {colour for _count, colour in rgb.getcolors(1_000_000) or []}


def test_no_usage_is_still_a_full_size_png_that_says_so(month_png: bytes) -> None:
    empty = cost_chart_png(title="Draftbot usage · December 2026", daily=[], top=[], days=NOVEMBER)
    picture = image(empty)
    assert picture.size == (1600, 900)
    assert empty != month_png
    grey = picture.convert("L")
    white = sum(grey.histogram()[250:]) / (1600 * 900)
    assert white > 0.97  # just a title and a message, no axes
    texts = [t.get_text() for t in cost_chart_figure("Dec", [], []).texts]
    assert "No usage in this period" in texts


def test_ninety_days_and_fifty_people_merge_into_ten_plus_others() -> None:
    days = [(date(2026, 9, 1) + timedelta(d)).isoformat() for d in range(90)]
    people = [f"person {i}" for i in range(50)]
    daily = usage(days, people)

    kept = top_series(daily)
    assert len(kept) == 10
    matrix = daily_matrix(daily, days, kept)
    assert list(matrix) == [*kept, OTHERS]

    fig = cost_chart_figure("Last 90 days", daily, top_of(daily), "person", days)
    left, right = fig.axes
    legend = left.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [*kept, OTHERS]
    assert legend.get_title().get_text() == "Person"
    dates = [t.get_text() for t in left.get_xticklabels()]
    assert 8 <= len(dates) <= 16  # thinned so they stay readable
    assert dates[0] == "Sep 1" and dates[1] == "Sep 8"
    assert len(right.get_yticklabels()) == 10
    # The same ten on both panels, each in a colour of its own (Others alone is grey).
    assert [t.get_text() for t in right.get_yticklabels()] == kept
    colours = [tuple(h.get_facecolor()) for h in legend.legend_handles]
    assert len(set(colours)) == 11
    bars = [tuple(bar.get_facecolor()) for bar in right.patches]
    assert bars == colours[:10]

    assert image(cost_chart_png("Last 90 days", daily, top_of(daily), "person", days)).size == (
        1600,
        900,
    )


def test_stacked_totals_per_day_equal_the_input_sums() -> None:
    daily = [*usage(NOVEMBER, [f"p{i}" for i in range(12)]), ("2026-11-05", "p0", 123)]
    matrix = daily_matrix(daily, NOVEMBER, top_series(daily))
    expected: dict[str, int] = defaultdict(int)
    for day, _label, cost in daily:
        expected[day] += cost
    for i, day in enumerate(NOVEMBER):
        assert sum(row[i] for row in matrix.values()) == expected[day]


def test_days_without_usage_keep_an_empty_slot_and_stray_days_are_refused() -> None:
    daily: list[DailyRow] = [("2026-11-03", "Sam", DOLLAR), ("2026-11-03", "Sam", 2 * DOLLAR)]
    assert daily_matrix(daily, NOVEMBER, ["Sam"]) == {"Sam": [0, 0, 3 * DOLLAR] + [0] * 27}
    with pytest.raises(ValueError, match="2026-12-01"):
        daily_matrix([("2026-12-01", "Sam", 1)], NOVEMBER, ["Sam"])


def test_top_series_ranks_by_total_cost_not_by_single_days() -> None:
    daily: list[DailyRow] = [
        ("2026-11-01", "spiky", 10),
        ("2026-11-01", "steady", 6),
        ("2026-11-02", "steady", 6),
        ("2026-11-02", "b-tie", 3),
        ("2026-11-02", "a-tie", 3),
    ]
    assert top_series(daily) == ["steady", "spiky", "a-tie", "b-tie"]
    assert top_series(daily, limit=1) == ["steady"]


def test_small_amounts_get_enough_decimals_to_tell_apart() -> None:
    assert format_usd(0) == "$0.00"
    assert format_usd(1_234_567_890_000) == "$1,234.57"
    assert format_usd(120_000_000) == "$0.12"
    assert format_usd(1_234_000) == "$0.0012"
    assert format_usd(50_000) == "$0.00005"

    daily: list[DailyRow] = [("2026-11-01", "draft", 50_000), ("2026-11-03", "summary", 1_234_000)]
    fig = cost_chart_figure("Tiny", daily, top_of(daily), "kind", NOVEMBER)
    fig.canvas.draw()
    left, right = fig.axes
    ticks = [t.get_text() for t in left.get_yticklabels()]
    assert ticks[0] == "$0.0000" and len(set(ticks)) == len(ticks)  # not "$0.00" everywhere
    assert right.get_title() == "Top kinds by cost"
    assert left.get_title() == "Cost per day by kind"
    assert [t.get_text() for t in right.texts] == ["$0.0012", "$0.00005"]  # bar labels


def test_odd_labels_draw_without_warnings_and_long_ones_are_cut() -> None:
    long_name = "Maximilian Alexander von Habsburg-Lothringen"
    daily: list[DailyRow] = [
        ("2026-11-01", "José Núñez", 3 * DOLLAR),
        ("2026-11-01", "李雷", 2 * DOLLAR),
        ("2026-11-02", long_name, DOLLAR),
        ("2026-11-02", "$5 budget $ bot", DOLLAR // 2),  # two dollars would be mathtext
        ("2026-11-02", "_underscore", DOLLAR // 4),  # matplotlib hides "_" labels by default
        ("2026-11-02", "rocket 🚀", DOLLAR // 8),
    ]
    fig = cost_chart_figure("Draftbot usage · 李雷", daily, top_of(daily), "person")
    left, right = fig.axes
    legend = left.get_legend()
    assert legend is not None
    shown = [t.get_text() for t in legend.get_texts()]
    assert len(shown) == 6
    assert shown[0] == "José Núñez"
    cut = shown[2]
    assert cut.endswith("…") and len(cut) <= 24 and long_name.startswith(cut[:-1])
    assert shown[4] == "_underscore"
    assert right.get_title() == "Top people by cost"
    assert [t.get_text() for t in right.get_yticklabels()][:3] == shown[:3]
    assert right.yaxis_inverted()  # costliest at the top

    png = cost_chart_png("Draftbot usage · 李雷", daily, top_of(daily), "person")
    assert image(png).size == (1600, 900)


def test_a_single_day_draws() -> None:
    daily: list[DailyRow] = [("2026-11-03", "Alex Chen", 1_234_000)]
    fig = cost_chart_figure("One day", daily, top_of(daily))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Nov 3"]
    assert image(cost_chart_png("One day", daily, top_of(daily))).size == (1600, 900)


def test_a_monthly_budget_draws_as_a_line_on_the_top_panel() -> None:
    daily = usage(NOVEMBER, ["Alex Chen", "Sam"])
    fig = cost_chart_figure(
        "November", daily, top_of(daily), "person", NOVEMBER, budget_nano_usd=25 * DOLLAR
    )
    _left, right = fig.axes
    [line] = right.get_lines()
    assert line.get_xdata()[0] == 25.0
    legend = right.get_legend()
    assert legend is not None and legend.get_texts()[0].get_text() == r"Monthly budget \$25.00"
    assert right.get_xlim()[1] >= 25.0, "the line is inside the panel"
    assert (
        not cost_chart_figure("November", daily, top_of(daily), "person", NOVEMBER)
        .axes[1]
        .get_lines()
    )
