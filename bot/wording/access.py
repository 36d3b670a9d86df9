"""The words of "who may use Draftbot": refusals (one sentence each, naming who to ask), and
what reports, doctor and the start-up check say about access (read as `wording.NAME`)."""

from __future__ import annotations

# One per `bot.access.RefusalReason`; {admins} names who to ask, {command} is `/draft`.
REFUSED_NOT_ALLOWED = "Draftbot isn't switched on for you yet: to use it, ask {admins} to add you."
REFUSED_CHANNEL = (
    "Draftbot isn't used in this channel: try another channel, or ask {admins} to allow it here."
)
REFUSED_DMS = (
    "Draftbot is switched off in direct messages: use `{command}` in a channel instead, or ask "
    "{admins}."
)
REFUSED_GUEST = (
    "Draftbot is only for full members of this workspace, not guests or people from other "
    "organizations: if you need it, ask {admins}."
)
REFUSED_UNCHECKED = (
    "Draftbot couldn't check with Slack that you may use it, so it did nothing: please try "
    "again in a minute, or ask {admins} if this keeps happening."
)

# The reports' names for the refusal reasons (`draftbot report`, and its notes).
REFUSAL_LABELS = {
    "not allowed": "not allowed",
    "channel": "channel not allowed",
    "dms": "direct messages off",
    "guest": "guest or other organization",
    "unchecked": "could not check",
}
REPORT_REFUSED = "Refused (no model call, nothing spent): {reasons}."
REPORT_SUMMARY_REFUSED = "{count} refused ({reasons}): no model call, nothing spent"

# The start-up check (logged) and doctor, for user groups in DRAFTBOT_ALLOWED_USERS.
GROUPS_NEED_PLAN = (
    "DRAFTBOT_ALLOWED_USERS names user groups ({groups}), but this Slack plan has no user "
    "groups (Slack answered plan_upgrade_required): only the member IDs listed will be able "
    "to use Draftbot. List people by member ID, or upgrade the Slack plan."
)
GROUPS_NEED_SCOPE = (
    "DRAFTBOT_ALLOWED_USERS names user groups ({groups}), but the bot token lacks the "
    "usergroups:read scope, so their members will be refused. Add the scope (api.slack.com/apps "
    "→ your app → OAuth & Permissions → Scopes) and reinstall the app."
)
GROUPS_UNREADABLE = (
    "Slack would not list the members of the user group {group} ({error}), so they will be "
    "refused until it does. Check the ID in DRAFTBOT_ALLOWED_USERS."
)
