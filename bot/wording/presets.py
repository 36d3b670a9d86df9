"""The words of per-channel presets: the admin form, its answers, the CLI's, the preview's
footer (read as `wording.NAME`)."""

from __future__ import annotations

# The preview's footer, after the kind and the time, in a channel with a preset.
PRESET_FOOTER = "using #{channel} settings"
PRESET_FOOTER_BY_ID = "using <#{channel_id}> settings"  # no name known: Slack shows it

# `/draft admin channel …`
PRESET_USAGE = (
    "To change a channel's Draftbot settings, name the channel: `{command} admin channel "
    "#support` (or its ID, like C0123ABCD)."
)
PRESET_CANNOT_OPEN = "Slack didn't open the channel settings form just now: please try again."
PRESET_SAVED = "Saved Draftbot's settings for {channel}: {summary}."
PRESET_REMOVED = "{channel} has no Draftbot settings of its own any more: the defaults apply."
PRESET_NOTHING = "nothing changed"

PRESET_FORM_TITLE = "Channel settings"
PRESET_FORM_SUBMIT = "Save"
PRESET_FORM_INTRO = "Draftbot's settings for {channel}. They apply to every request made there."
PRESET_FORM_INSTRUCTIONS = "Extra instructions for Claude"
PRESET_FORM_INSTRUCTIONS_HINT = (
    "Up to {limit:,} characters, added to every request from this channel (a voice, who the "
    "readers are, a sign-off). Leave empty for none."
)
PRESET_FORM_KIND = "Kind for requests that name none"
PRESET_FORM_MODEL = "Model"
PRESET_FORM_TONE = "Default tone"
PRESET_FORM_ENABLED = "May Draftbot be used here?"
PRESET_FORM_DEFAULT = "Draftbot's default"
PRESET_YES = "Yes"
PRESET_NO = "No"

# Problems with a preset (the form's errors, the CLI's messages).
PRESET_TOO_LONG = "Instructions may be at most {limit:,} characters; these are {length:,}."
PRESET_UNKNOWN_KIND = "There is no kind called {kind!r}: the kinds are {kinds}."
PRESET_UNKNOWN_MODEL = (
    "Draftbot has no price for the model {model!r}, so it can't count what it costs: use one "
    "of {models} (or add its prices to DRAFTBOT_PRICES_FILE)."
)
PRESET_UNKNOWN_TONE = "{tone!r} is not one of the tones: {tones}."
PRESET_BAD_CHANNEL = (
    "{channel!r} is not a channel: give a channel ID (like C0123ABCD) or mention it (#support)."
)

# How instructions read in the audit log (not their text).
PRESET_INSTRUCTIONS_SUMMARY = "{length:,} characters, sha256 {digest}"

# `/draft admin access`: the access rules in force, changed at run time.
ACCESS_FORM_TITLE = "Who may use Draftbot"
ACCESS_FORM_INTRO = (
    "The rules in force on every instance. A change replaces the setting's value until it is "
    "reset (`draftbot access reset`); choosing the setting's own value resets it too."
)
ACCESS_FORM_USERS = "People allowed (empty: everyone)"
ACCESS_FORM_GROUPS = "User groups allowed (IDs like S0123ABCD, or @handles)"
ACCESS_FORM_CHANNELS = "Channels allowed (empty: every channel)"
ACCESS_FORM_BLOCKED = "Channels where Draftbot is never used"
ACCESS_FORM_DMS = "Direct messages"
ACCESS_FORM_GUESTS = "Guests and people from other organizations"
ACCESS_ON = "On"
ACCESS_OFF = "Off"
ACCESS_FROM_SETTING = "In force: the setting {setting}."
ACCESS_FROM_OVERRIDE = (
    "In force: changed at run time by {who} on {when} UTC (the setting {setting} says: "
    "{setting_value})."
)
ACCESS_UNKNOWN_GROUP = (
    "Slack knows no user group {handle}: use its ID (S…) or its handle as Slack shows it."
)
ACCESS_GROUPS_UNREADABLE = (
    "Slack would not list the user groups ({error}), so @handles can't be looked up: use IDs "
    "(S…) instead."
)
ACCESS_SAVED = "Saved who may use Draftbot: {summary}."
