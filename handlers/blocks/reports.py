"""Usage in Slack: a person's own month, and the admin report's summary."""

from __future__ import annotations

from typing import Any

from bot import wording
from bot.budgets import BudgetStatus
from bot.outcomes import value_line
from bot.report_formats import refusal_reasons
from bot.reports import Report
from handlers.blocks.message import Outgoing, section
from handlers.blocks.text import escape


def usage_text(status: BudgetStatus) -> str:
    lines = [
        wording.USAGE_SUMMARY.format(
            month=status.month.start.strftime("%B %Y"),
            drafts=wording.counted(status.drafts, "draft", "drafts"),
            spent=status.spent.display(),
        )
    ]
    if status.limit is not None and status.remaining is not None:
        lines.append(
            wording.USAGE_BUDGET_LEFT.format(
                limit=status.limit.display(),
                remaining=status.remaining.display(),
                resets_on=status.resets_on,
            )
        )
    else:
        lines.append(wording.USAGE_NO_BUDGET)
    return "\n".join(lines)


def usage_message(status: BudgetStatus) -> Outgoing:
    text = usage_text(status)
    return Outgoing(text=text, blocks=(section(text),))


def budget_admin_alert(status: BudgetStatus, name: str) -> str:
    """Names the person in plain text, so the alert does not notify them."""
    return wording.BUDGET_ADMIN_ALERT.format(
        user=f"{escape(name)} ({status.user_id})",
        percent=f"{status.used_fraction:.0%}",
        spent=status.spent.display(),
        limit=status.limit.display() if status.limit else "-",
        month=status.month.start.strftime("%B %Y"),
    )


def summary_blocks(by_user: Report, by_kind: Report, top: int = 5) -> list[dict[str, Any]]:
    """Block Kit summary for admins: totals, top people, top kinds, cache savings."""
    total = by_user.total
    people = sum(1 for row in by_user.rows if row.requests)  # not those only refused
    totals = (
        f"*{wording.counted(total.requests, 'draft', 'drafts')}* by "
        f"*{wording.counted(people, 'person', 'people')}* · "
        f"cost *{total.cost.display()}*"
        + (f" (+{total.unpriced_requests} with unknown price)" if total.unpriced_requests else "")
        + f"\nPrompt cache: *{total.cache_read_share:.0%}* of input read from cache, "
        f"saving *{total.savings.display()}*"
        + (f"\n{total.failed:,} failed · {total.truncated:,} cut off" if total.requests else "")
        + (
            "\n"
            + wording.REPORT_SUMMARY_REFUSED.format(
                count=f"{total.refused:,}", reasons=refusal_reasons(total)
            )
            if total.refused
            else ""
        )
        + (f"\n_{wording.REPORT_NEGATIVE_SAVINGS}_" if total.savings.nano_usd < 0 else "")
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": wording.REPORT_HEADER}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": by_user.period.label}]},
        section(totals),
    ]
    value = value_line(by_kind.total_outcomes, total.cost_nano_usd, by_kind.outcomes)
    if value:  # leads with what the money bought
        blocks.insert(2, section(value))
    if not total.requests:
        return blocks
    blocks.append(
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": _top(wording.REPORT_TOP_PEOPLE, by_user, top),
                },
                {
                    "type": "mrkdwn",
                    "text": _top(wording.REPORT_TOP_KINDS, by_kind, top),
                },
            ],
        }
    )
    return blocks


def _top(heading: str, report: Report, top: int) -> str:
    return f"{heading}\n" + "\n".join(
        f"{index}. {escape(row.label)}: {row.cost.display()} "
        f"({wording.counted(row.requests, 'draft', 'drafts')})"
        for index, row in enumerate([row for row in report.rows if row.requests][:top], start=1)
    )
