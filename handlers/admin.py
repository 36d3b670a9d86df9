"""`/draft usage` for everyone; `/draft report`, `/draft budget` and `/draft admin …` (a
channel's preset, who may use Draftbot) for admins."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError

from bot import wording
from bot.pricing import parse_usd, usd_bounds
from bot.report_formats import summary_text
from bot.reports import PERIOD_NAMES, named_period
from bot.slack_ids import USER_ARGUMENT, user_argument
from bot.storage.offloop import off_loop, write_off_loop
from handlers import access_admin, presets
from handlers.blocks import previews
from handlers.blocks.message import Outgoing, context, layout
from handlers.blocks.reports import summary_blocks, usage_message
from handlers.flows import Flows
from handlers.replies import Reply
from handlers.report_delivery import build_usage_reports, send_report_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subcommand:
    name: str  # usage, report, budget
    args: tuple[str, ...]


def parse_subcommand(text: str) -> Subcommand | None:
    """Only exact forms count, so `/draft report on Q3 sales` still drafts a report."""
    words = text.split()
    if not words:
        return None
    name, args = words[0].lower(), tuple(words[1:])
    if name == "usage" and not args:
        return Subcommand("usage", ())
    if name == "report" and (not args or (len(args) == 1 and args[0].lower() in PERIOD_NAMES)):
        return Subcommand("report", tuple(arg.lower() for arg in args))
    if name == "budget" and (not args or USER_ARGUMENT.match(args[0])):
        return Subcommand("budget", args)
    if name == "admin" and args and args[0].lower() == "channel" and len(args) <= 2:
        return Subcommand("admin", args)  # `admin channel #support`: a form
    if name == "admin" and [arg.lower() for arg in args] == ["access"]:
        return Subcommand("admin", ("access",))  # who may use Draftbot: a form
    return None


async def run(
    sub: Subcommand, ack: AsyncAck, command: dict[str, Any], flows: Flows, reply: Reply
) -> None:
    user_id = command["user_id"]
    budgets = flows.services.budgets
    if sub.name == "usage":
        status = await off_loop(budgets.status, user_id)
        await ack(**layout(usage_message(status)).messages[0])
        return
    if sub.name == "admin":
        await ack()  # a form opens, or a sentence says why not
    else:
        await ack(text=wording.REPORT_WORKING if sub.name == "report" else "…")
    if not await flows.people.is_admin(user_id):
        log.info("refused admin command %s for non-admin user=%s", sub.name, user_id)
        admins = previews.admin_contact(flows.services.settings.admin_user_ids)
        text = wording.ADMINS_ONLY.format(command=flows.command, subcommand=sub.name, admins=admins)
        await reply.show(Outgoing(text=text))
        return
    if sub.name == "report":
        await _report(flows, sub, user_id, reply)
        return
    if sub.name == "admin" and sub.args == ("access",):
        await access_admin.open_access_form(flows, command, reply)
        return
    if sub.name == "admin":
        await presets.open_channel_form(flows, sub.args[1:], command, reply)
        return
    try:
        # A partial, not the module's function: the pause after a failed write is kept per
        # writer, and the function would carry one app's pause into every other app's budget
        # commands (tests run many apps in one process).
        answer = Outgoing(text=await write_off_loop(partial(_budget, flows, sub, user_id)))
    except Exception as error:  # the database, most likely: say so rather than nothing
        answer = flows.failure_message(error, f"setting a budget for {user_id}")
    await reply.show(answer)


async def _report(flows: Flows, sub: Subcommand, user_id: str, reply: Reply) -> None:
    period = named_period(sub.args[0] if sub.args else "this-month")
    services = flows.services
    try:
        reports = await build_usage_reports(
            services.store,
            services.prices,
            flows.people,
            period,
            monthly_budget_nano_usd=services.budgets.default_nano_usd,
        )
    except Exception as error:
        await reply.show(flows.failure_message(error, f"building the report for {user_id}"))
        return
    try:
        await send_report_files(flows.client, user_id, reports)
        note = wording.REPORT_FILES_SENT
    except SlackApiError as error:
        code = error.response.get("error")
        log.warning("could not send report files to user=%s: %s", user_id, code)
        note = wording.REPORT_FILES_FAILED.format(error=code)
    blocks = (*summary_blocks(reports.by_user, reports.by_kind), context(note))
    await reply.show(Outgoing(text=summary_text(reports.by_user), blocks=blocks))


def _budget(flows: Flows, sub: Subcommand, admin_id: str) -> str:
    """Set or remove a person's budget; the answer to show the admin."""
    usage = wording.BUDGET_USAGE.format(command=flows.command)
    target = user_argument(sub.args[0]) if sub.args else None
    if target is None or len(sub.args) != 2:
        return usage
    amount_text = sub.args[1].removeprefix("$").lower()
    budgets = flows.services.budgets
    if amount_text in ("none", "default", "off"):
        budgets.store.remove_budget(target, removed_by=admin_id)
        default = budgets.status(target).limit
        log.info("budget override removed user=%s by=%s", target, admin_id)
        return wording.BUDGET_REMOVED.format(
            user=f"<@{target}>", default=default.display() if default else "no limit"
        )
    amount = parse_usd(amount_text)
    if amount is None:
        lowest, highest = usd_bounds()
        return wording.BUDGET_BAD_AMOUNT.format(
            lowest=lowest, highest=highest, command=flows.command
        )
    budgets.set_limit(target, amount, set_by=admin_id)
    status = budgets.status(target)
    log.info("budget set user=%s usd=%s by=%s", target, amount, admin_id)
    return wording.BUDGET_SET.format(
        user=f"<@{target}>",
        limit=status.limit.display() if status.limit else "-",
        spent=status.spent.display(),
        month=status.month.start.strftime("%B"),
    )
