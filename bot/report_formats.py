"""Renderings of a `Report`: terminal table, CSV, JSON and a Slack Block Kit summary.

Every rendering shows the same numbers. CSV and JSON carry costs with all nine decimals
so they add up exactly; the table and Slack round for reading.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

from bot import wording
from bot.outcomes import OUTCOME_COLUMNS, outcome_values
from bot.pricing import Cost
from bot.reports import REFUSED_FIELDS, Report, ReportRow
from bot.tables import Column, render_table

JSON_SCHEMA = "draftbot.report/2"  # 2: the outcome figures (bot/outcomes.py)
CSV_COLUMNS = (
    "key",
    "label",
    "requests",
    "failed",
    "truncated",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cache_read_share",
    "cost_usd",
    "savings_usd",
    "unpriced_requests",
    "latency_p50_ms",
    "latency_p95_ms",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "refused",  # requests refused before any model call (who may use Draftbot), by reason:
    *REFUSED_FIELDS.values(),
    *OUTCOME_COLUMNS,  # what the drafts became: posted, abandoned, feedback (docs/reports.md)
)
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GROUP_HEADINGS = {
    "user": "Person",
    "kind": "Kind",
    "day": "Day (UTC)",
    "model": "Model",
    "channel": "Channel",
}


def refusal_reasons(row: ReportRow) -> str:
    """ "3 not allowed, 1 guest or other organization": the row's refusals by reason."""
    return ", ".join(
        f"{count:,} {wording.REFUSAL_LABELS[reason]}"
        for reason, count in row.refused_by_reason().items()
        if count
    )


def row_values(row: ReportRow) -> dict[str, Any]:
    """A row as plain values: the CSV and JSON columns."""
    return {
        "key": row.key,
        "label": row.label,
        "requests": row.requests,
        "failed": row.failed,
        "truncated": row.truncated,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cache_write_tokens": row.cache_write_tokens,
        "cache_read_tokens": row.cache_read_tokens,
        "cache_read_share": round(row.cache_read_share, 4),
        "cost_usd": row.cost.exact(),
        "savings_usd": row.savings.exact(),
        "unpriced_requests": row.unpriced_requests,
        "latency_p50_ms": row.latency_p50_ms,
        "latency_p95_ms": row.latency_p95_ms,
        "ttft_p50_ms": row.ttft_p50_ms,
        "ttft_p95_ms": row.ttft_p95_ms,
        "refused": row.refused,
        **{name: getattr(row, name) for name in REFUSED_FIELDS.values()},
    }


def all_values(report: Report, row: ReportRow) -> dict[str, Any]:
    """A row's usage and outcome figures: a CSV line, a JSON row."""
    return row_values(row) | outcome_values(report.outcomes_of(row), row.cost_nano_usd)


def to_csv(report: Report) -> str:
    """One line per group (no total line, so a spreadsheet's SUM is right). Text that a
    spreadsheet would run as a formula is written as text (`csv_cell`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        values = all_values(report, row)
        writer.writerow({**values, **{column: csv_cell(values[column]) for column in TEXT_COLUMNS}})
    return out.getvalue()


# The CSV's text columns (names come from Slack); the others are numbers, some negative.
TEXT_COLUMNS = ("key", "label")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as written: text starting with `=`, `+`, `-`, `@`, a tab
    or a carriage return (a display name such as `=HYPERLINK(…)`) gets a leading `'`, as
    OWASP's CSV-injection advice says. Numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_json(report: Report) -> str:
    """The stable shape documented in docs/reports.md (`schema` changes if it ever breaks)."""
    start, end = report.period.iso_bounds()
    document = {
        "schema": JSON_SCHEMA,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "period": {
            "name": report.period.name,
            "label": report.period.label,
            "start": start,
            "end": end,
        },
        "group_by": report.group_by,
        "currency": "USD",
        "rows": [all_values(report, row) for row in report.rows],
        "total": all_values(report, report.total),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(report: Report, output_format: str, wide: bool = False) -> str:
    """The report as "table" (`wide`: every column), "csv" or "json"."""
    if output_format == "table":
        return to_table(report, wide=wide)
    return {"csv": to_csv, "json": to_json}[output_format](report)


TABLE_COLUMNS = (
    Column("", numeric=False),  # the grouping's heading
    Column("Drafts"),
    Column("Failed"),
    Column("Refused", wide_only=True),  # the default view has the note below the table
    Column("Cut off", wide_only=True),
    Column("Input", wide_only=True),
    Column("Output", wide_only=True),
    Column("Cache write", wide_only=True),
    Column("Cache read", wide_only=True),
    Column("Cached %"),
    Column("Cost"),
    Column("Saved by cache"),
    Column("Latency p50/p95"),
    Column("First token p50/p95", wide_only=True),
)
# The second table: what the drafts became (bot/outcomes.py, docs/reports.md → Outcomes).
OUTCOME_TABLE_COLUMNS = (
    Column("", numeric=False),
    Column("Made"),
    Column("Posted"),
    Column("Discarded", wide_only=True),
    Column("Abandoned"),
    Column("Per draft"),
    Column("Per posted"),
    Column("Refined/posted", wide_only=True),
    Column("Edited", wide_only=True),
    Column("To post p50"),
    Column("👍/👎"),
)


def to_table(report: Report, wide: bool = False, width: int | None = None) -> str:
    """The columns a reader needs, fitted to `width` (the terminal's by default); `wide`:
    every column, however wide."""
    heading = _GROUP_HEADINGS[report.group_by]
    columns = (replace(TABLE_COLUMNS[0], heading=heading), *TABLE_COLUMNS[1:])
    table = render_table(
        columns,
        [_table_line(row) for row in report.rows],
        total=_table_line(report.total),
        wide=wide,
        width=width,
    )
    title = f"Draftbot usage by {heading.lower()} · {report.period.label}"
    notes = [title, "", table]
    if report.total_outcomes.created:
        outcome_columns = (replace(OUTCOME_TABLE_COLUMNS[0], heading=heading),)
        outcomes = render_table(
            (*outcome_columns, *OUTCOME_TABLE_COLUMNS[1:]),
            [outcome_cells(report, row) for row in report.rows],
            total=outcome_cells(report, report.total),
            wide=wide,
            width=width,
        )
        notes += ["", wording.REPORT_OUTCOMES_TITLE, "", outcomes]
    if report.total.savings.nano_usd < 0:
        notes.append("\n" + wording.REPORT_NEGATIVE_SAVINGS)
    if report.total.unpriced_requests:
        notes.append(
            f"\n* {report.total.unpriced_requests} request(s) used a model with no price in "
            "the price table: their cost is unknown and not included above."
        )
    if report.total.refused:
        notes.append("\n" + wording.REPORT_REFUSED.format(reasons=refusal_reasons(report.total)))
    if not wide:
        notes.append("\nMore columns (tokens, cut off, refused, first token): --wide.")
    return "\n".join(notes) + "\n"


def _table_line(row: ReportRow) -> list[str]:
    cost = row.cost.display() + ("*" if row.unpriced_requests else "")  # see the note
    return [
        row.label if row.label == row.key or row.key == "total" else f"{row.label} ({row.key})",
        f"{row.requests:,}",
        f"{row.failed:,}",
        f"{row.refused:,}",
        f"{row.truncated:,}",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        f"{row.cache_write_tokens:,}",
        f"{row.cache_read_tokens:,}",
        f"{row.cache_read_share:.0%}",
        cost,
        row.savings.display(),
        _seconds_pair(row.latency_p50_ms, row.latency_p95_ms),
        _seconds_pair(row.ttft_p50_ms, row.ttft_p95_ms),
    ]


def outcome_cells(report: Report, row: ReportRow) -> list[str]:
    """The outcome table's line: drafts made, posted ("241 (77%)"), discarded, abandoned,
    cost per draft and per posted draft, refinements per posted draft, share edited,
    median time to post, 👍 / 👎."""
    outcomes = report.outcomes_of(row)
    per_draft = outcomes.cost_per_draft(row.cost_nano_usd)
    per_posted = outcomes.cost_per_posted(row.cost_nano_usd)
    share = outcomes.posted_share
    wait = outcomes.median_seconds_to_post
    return [
        _table_line(row)[0],
        f"{outcomes.created:,}",
        f"{outcomes.posted:,}" + (f" ({share:.0%})" if share is not None else ""),
        f"{outcomes.discarded:,}",
        f"{outcomes.abandoned:,}",
        per_draft.display() if per_draft else "-",
        per_posted.display() if per_posted else "-",
        _number(outcomes.refinements_per_posted, "{:.1f}"),
        _number(outcomes.edited_share, "{:.0%}"),
        wording.duration(wait) if wait is not None else "-",
        f"{outcomes.thumbs_up:,} / {outcomes.thumbs_down:,}",
    ]


def _number(value: float | None, shape: str) -> str:
    return "-" if value is None else shape.format(value)


def _seconds_pair(p50: int | None, p95: int | None) -> str:
    if p50 is None or p95 is None:
        return "-"
    return f"{p50 / 1000:.1f} / {p95 / 1000:.1f} s"


def summary_text(by_user: Report) -> str:
    """Plain-text fallback for notifications."""
    total = by_user.total
    return (
        f"Draftbot usage report, {by_user.period.label}: "
        f"{wording.counted(total.requests, 'draft', 'drafts')}, "
        f"{Cost.from_nano_usd(total.cost_nano_usd).display()}"
    )
