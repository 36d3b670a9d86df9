"""The words of usage reports: in Slack, and `draftbot report --output` (read as
`wording.NAME`)."""

from __future__ import annotations

REPORT_HEADER = "Draftbot usage report"
REPORT_TOP_PEOPLE = "*Top people*"
REPORT_TOP_KINDS = "*Top kinds*"
REPORT_CHART_TITLE = "Draftbot usage · {period} · {total} · {change}"
REPORT_CHANGE = "{percent:+.0%} on {previous}"
REPORT_CHANGE_FROM_NOTHING = "nothing spent in {previous}"
REPORT_PREVIOUS_DAYS = "the {days} days before"
REPORT_PREVIOUS_DAY = "the day before"
REPORT_CHART_FILE_TITLE = "Draftbot usage chart, {period}"
REPORT_FILES_COMMENT = "Draftbot usage report, {period}: chart and per-person CSV."
REPORT_CHART_NAME = "Chart"
REPORT_CSV_TITLE = "Usage by person (CSV)"
# The rows of `draftbot report --by channel` that are not channels.
REPORT_DIRECT_MESSAGES = "direct messages"
REPORT_NO_CHANNEL = "terminal (draftbot draft)"
REPORT_NEGATIVE_SAVINGS = (
    "Saved by cache is negative: cache writes cost more than cache reads saved this period "
    "(each kind's first request, or one after the cache expired, pays extra to write it)."
)

OUTPUT_IS_DATABASE = (
    "{path} is Draftbot's database: a report never overwrites it, even with --force. "
    "Choose another file name, for example --output usage.csv."
)
OUTPUT_IS_JOURNAL = (
    "{path} is Draftbot's usage journal (usage rows still to be written to the database): "
    "a report never overwrites it, even with --force. Choose another file name."
)
OUTPUT_EXISTS = "{path} already exists. Choose another file name, or add --force to replace it."
OUTPUT_CANNOT_WRITE = (
    "Cannot write {path} ({reason}). Check that its folder exists and that you may write there."
)
