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
from bot.pricing import PriceTable, format_usd
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
    previous_nano_usd: int = 0  # what the period before cost, for the chart's title
    monthly_budget_nano_usd: int | None = None  # the default per-person budget, if any


async def build_usage_reports(
    store: Storage,
    prices: PriceTable,
    people: People,
    period: Period,
    monthly_budget_nano_usd: int | None = None,
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
    before = await off_loop(store.daily_costs, *period.previous().day_bounds(), "kind")
    return UsageReports(
        by_user,
        by_kind,
        daily_by_user,
        daily_by_kind,
        previous_nano_usd=sum(cost for _day, _kind, cost in before),
        monthly_budget_nano_usd=monthly_budget_nano_usd,
    )


def chart_png(reports: UsageReports, series: Literal["person", "kind"] = "person") -> bytes:
    """Cost per day stacked by person (or kind), beside the top ten by cost."""
    from bot.charts import cost_chart_png  # matplotlib is slow to import: only when needed

    report = reports.by_user if series == "person" else reports.by_kind
    budget = reports.monthly_budget_nano_usd if series == "person" else None
    return cost_chart_png(
        title=chart_title(reports),
        daily=reports.daily_by_user if series == "person" else reports.daily_by_kind,
        top=[(row.label, row.cost_nano_usd) for row in report.rows[:10]],
        series_name=series,
        days=report.period.days(),
        budget_nano_usd=budget if report.period.is_month else None,
        posted=[(kind, o.posted, o.created) for kind, o in reports.by_kind.outcomes.items()],
    )


def chart_title(reports: UsageReports) -> str:
    """The period, what it cost, and the change from the period before."""
    period, total = reports.by_user.period, reports.by_user.total.cost_nano_usd
    if period.is_month:
        previous = period.previous().start.strftime("%B %Y")
    elif len(period.days()) == 1:
        previous = wording.REPORT_PREVIOUS_DAY
    else:
        previous = wording.REPORT_PREVIOUS_DAYS.format(days=len(period.days()))
    if reports.previous_nano_usd:
        percent = (total - reports.previous_nano_usd) / reports.previous_nano_usd
        change = wording.REPORT_CHANGE.format(percent=percent, previous=previous)
    else:
        change = wording.REPORT_CHANGE_FROM_NOTHING.format(previous=previous)
    return wording.REPORT_CHART_TITLE.format(
        period=period.label, total=format_usd(total), change=change
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
