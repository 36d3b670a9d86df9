"""Who may use Draftbot (DRAFTBOT_ALLOWED_USERS and the other access settings): what the
rules say, and whether Slack lets Draftbot read the user groups they name. The settings'
form (well-formed ids, on/off) is checked with the other settings; the start-up check
(`draftbot serve`) logs the same user-group problems."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.access import AccessRules
from bot.config import Settings
from bot.doctor.report import Check, not_checked
from bot.doctor.slack import NETWORK_ERRORS, slack_client, slack_error_code, slack_unreachable

ACCESS_CHECK = "Who may use Draftbot"
GROUPS_CHECK = "User groups"


def describe_rules(rules: AccessRules) -> str:
    """The rules in one line, for people who set them."""
    people = "everyone in the workspace"
    if rules.limits_people:
        count = len(rules.allowed_users)
        listed = [wording.counted(count, "person", "people")] if count else []
        if rules.allowed_groups:
            listed.append(f"the members of {', '.join(rules.allowed_groups)}")
        people = " and ".join(listed) + " (and the admins)"
    where = "in every channel"
    if rules.allowed_channels:
        where = f"only in {', '.join(sorted(rules.allowed_channels))}"
    if rules.blocked_channels:
        where += f", never in {', '.join(sorted(rules.blocked_channels))}"
    dms = "and in direct messages" if rules.dms else "but not in direct messages"
    guests = (
        "Guests and people from other organisations may too."
        if rules.guests
        else "Guests and people from other organisations may not (DRAFTBOT_GUESTS=off)."
    )
    return f"Draftbot may be used by {people}, {where}, {dms}. {guests}"


async def user_group_problems(client: AsyncWebClient, rules: AccessRules) -> list[str]:
    """One plain sentence per problem reading the allowed user groups (empty: none)."""
    groups = ", ".join(rules.allowed_groups)
    problems = []
    for group in rules.allowed_groups:
        try:
            await client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            code = slack_error_code(error)
            if code == "plan_upgrade_required":
                return [wording.GROUPS_NEED_PLAN.format(groups=groups)]
            if code == "missing_scope":
                return [wording.GROUPS_NEED_SCOPE.format(groups=groups)]
            problems.append(wording.GROUPS_UNREADABLE.format(group=group, error=code))
    return problems


async def access_checks(settings: Settings | None) -> list[Check]:
    if settings is None:
        return [not_checked(ACCESS_CHECK, "the settings need fixing first (see above)")]
    rules = settings.access
    checks = [Check(ACCESS_CHECK, ok=True, detail=describe_rules(rules))]
    if not rules.allowed_groups:
        return checks
    if not settings.slack_bot_token.startswith("xoxb-"):
        return [*checks, not_checked(GROUPS_CHECK, "needs a working bot token")]
    try:
        problems = await user_group_problems(
            slack_client(settings, settings.slack_bot_token), rules
        )
    except NETWORK_ERRORS as error:
        return [*checks, slack_unreachable(GROUPS_CHECK, settings, error)]
    if not problems:
        detail = f"Slack lists the members of {', '.join(rules.allowed_groups)}."
        return [*checks, Check(GROUPS_CHECK, ok=True, detail=detail)]
    fix = (
        "Until then only the people listed by member ID (and the admins) can use Draftbot; "
        "run draftbot doctor again after the change."
    )
    return [*checks, Check(GROUPS_CHECK, ok=False, detail=" ".join(problems), fix=fix)]
