"""Who may use Draftbot, and where: the rules from the settings, and the checks that need no
Slack call (`place_refusal`). Who is a guest, and who is in a user group, is asked of Slack
by `handlers.access.Access`, which applies these rules to every surface.

Every setting is optional; with none set, everyone may use Draftbot everywhere, except
guests and Slack Connect members of other organisations (`DRAFTBOT_GUESTS`, off unless
set to on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from bot.slack_ids import CHANNEL_ID, USER_GROUP_ID, USER_ID, is_direct_message

# Why a request was refused: the `error` of its usage row (status "refused"), and the
# reports' "refused" figures, in this order.
RefusalReason = Literal["not allowed", "channel", "dms", "guest", "unchecked"]
REFUSAL_REASONS: tuple[RefusalReason, ...] = get_args(RefusalReason)
REFUSED_STATUS = "refused"

FIND_MEMBER_ID = "In Slack, open a profile → ⋮ → Copy member ID"
FIND_CHANNEL_ID = "In Slack: open the channel → its name → the ID is at the bottom"
FIND_GROUP_ID = "a user group's ID (S…) is in its page's link: People → User groups → the group"


@dataclass(frozen=True)
class AccessRules:
    allowed_users: frozenset[str] = frozenset()  # member ids (U…, W…); empty: anyone
    allowed_groups: tuple[str, ...] = ()  # user-group ids (S…): their members may too
    allowed_channels: frozenset[str] = frozenset()  # empty: every channel
    blocked_channels: frozenset[str] = frozenset()
    dms: bool = True  # the Messages tab, and the slash command in direct messages
    guests: bool = False  # guests and members of other organisations (Slack Connect)

    @property
    def limits_people(self) -> bool:
        return bool(self.allowed_users or self.allowed_groups)


def place_refusal(rules: AccessRules, channel_id: str | None) -> RefusalReason | None:
    """Why Draftbot may not be used in this conversation (None: it may). No channel, or a
    D… id, is a direct message: `DRAFTBOT_DMS` decides, not the channel lists."""
    if is_direct_message(channel_id):
        return None if rules.dms else "dms"
    assert channel_id is not None
    if channel_id in rules.blocked_channels:
        return "channel"
    if rules.allowed_channels and channel_id not in rules.allowed_channels:
        return "channel"
    return None


def parse_access(env: Mapping[str, str], problems: list[str]) -> AccessRules:
    """The access settings from `env`; each malformed one adds a plain sentence to
    `problems` (and counts as unset)."""
    people = _ids(env, "DRAFTBOT_ALLOWED_USERS")
    bad_people = [item for item in people if not (USER_ID.fullmatch(item) or _is_group(item))]
    if bad_people:
        problems.append(
            "DRAFTBOT_ALLOWED_USERS must be Slack member IDs (like U012AB3CD) or user-group "
            f"IDs (like S0123ABCD), separated by commas: these are not: {', '.join(bad_people)}. "
            f"{FIND_MEMBER_ID}; {FIND_GROUP_ID}."
        )
    allowed = _ids(env, "DRAFTBOT_ALLOWED_CHANNELS")
    blocked = _ids(env, "DRAFTBOT_BLOCKED_CHANNELS")
    return AccessRules(
        allowed_users=frozenset(item for item in people if USER_ID.fullmatch(item)),
        allowed_groups=tuple(dict.fromkeys(item for item in people if _is_group(item))),
        allowed_channels=_channel_ids("DRAFTBOT_ALLOWED_CHANNELS", allowed, problems),
        blocked_channels=_channel_ids("DRAFTBOT_BLOCKED_CHANNELS", blocked, problems),
        dms=_on_off(env, "DRAFTBOT_DMS", True, problems),
        guests=_on_off(env, "DRAFTBOT_GUESTS", False, problems),
    )


def _is_group(item: str) -> bool:
    return USER_GROUP_ID.fullmatch(item) is not None


def _channel_ids(name: str, items: list[str], problems: list[str]) -> frozenset[str]:
    bad = [item for item in items if not CHANNEL_ID.fullmatch(item)]
    if bad:
        problems.append(
            f"{name} must be channel IDs separated by commas (like C0123ABCD), not channel "
            f"names: these are not: {', '.join(bad)}. {FIND_CHANNEL_ID}."
        )
    return frozenset(item for item in items if CHANNEL_ID.fullmatch(item))


def _ids(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


def _on_off(env: Mapping[str, str], name: str, default: bool, problems: list[str]) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("on", "off"):
        return text == "on"
    problems.append(
        f"{name} must be on or off (leave it unset for {'on' if default else 'off'}), not {text!r}."
    )
    return default
