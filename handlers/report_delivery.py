"""Build the admin usage report and deliver it to Slack: summary, chart and CSV.

Shared by `/draft report` (privately, files to the admin's DM) and
`draftbot report --post-to CHANNEL` (a scheduled digest in a channel).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.pricing import PriceTable
from bot.report_formats import summary_text, to_csv
from bot.reports import Period, Report, build_report, with_names
from bot.storage import Storage
from bot.storage.offloop import off_loop
from handlers.blocks.reports import summary_blocks
from handlers.people import People


@dataclass(frozen=True)
class UsageReports:
    by_user: Report
    by_kind: Report
    daily_by_user: list[tuple[str, str, int]]  # (day, display name, cost nano-USD)
    daily_by_kind: list[tuple[str, str, int]]


async def build_usage_reports(
    store: Storage, prices: PriceTable, people: People, period: Period
) -> UsageReports:
    by_user = await off_loop(build_report, store, prices, period, "user")
    names = await people.names([row.key for row in by_user.rows])
    by_user = with_names(by_user, names)
    by_kind = await off_loop(build_report, store, prices, period, "kind")
    first_day, end_day = period.day_bounds()
    daily_by_user = [
        (day, names.get(user_id, user_id), cost)
        for day, user_id, cost in await off_loop(store.daily_costs, first_day, end_day, "user")
    ]
    daily_by_kind = await off_loop(store.daily_costs, first_day, end_day, "kind")
    return UsageReports(by_user, by_kind, daily_by_user, daily_by_kind)


def chart_png(reports: UsageReports, series: Literal["person", "kind"] = "person") -> bytes:
    """Cost per day stacked by person (or kind), beside the top ten by cost."""
    from bot.charts import cost_chart_png  # matplotlib is slow to import: only when needed

    report = reports.by_user if series == "person" else reports.by_kind
    return cost_chart_png(
        title=wording.REPORT_CHART_TITLE.format(period=report.period.label),
        daily=reports.daily_by_user if series == "person" else reports.daily_by_kind,
        top=[(row.label, row.cost_nano_usd) for row in report.rows[:10]],
        series_name=series,
        days=report.period.days(),
    )


async def post_report(client: AsyncWebClient, channel: str, reports: UsageReports) -> None:
    """Post the summary and the chart in a channel (the bot must be a member)."""
    await client.chat_postMessage(
        channel=channel,
        text=summary_text(reports.by_user),
        blocks=summary_blocks(reports.by_user, reports.by_kind),
    )
    png = await asyncio.to_thread(chart_png, reports)
    await client.files_upload_v2(
        channel=channel,
        content=png,
        filename=_filename(reports.by_user, "png"),
        title=wording.REPORT_CHART_FILE_TITLE.format(period=reports.by_user.period.label),
    )


async def send_report_files(client: AsyncWebClient, user_id: str, reports: UsageReports) -> None:
    """The chart and the per-person CSV, in the user's DM with Draftbot."""
    opened = await client.conversations_open(users=user_id)
    png = await asyncio.to_thread(chart_png, reports)
    period = reports.by_user.period
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        initial_comment=wording.REPORT_FILES_COMMENT.format(period=period.label),
        file_uploads=[
            {
                "content": png,
                "filename": _filename(reports.by_user, "png"),
                "title": wording.REPORT_CHART_NAME,
            },
            {
                "content": to_csv(reports.by_user),
                "filename": _filename(reports.by_user, "csv"),
                "title": wording.REPORT_CSV_TITLE,
            },
        ],
    )


def _filename(report: Report, extension: str) -> str:
    return f"draftbot-usage-{report.period.name.replace('..', '_to_')}.{extension}"
