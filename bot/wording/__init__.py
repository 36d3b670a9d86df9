"""Every sentence Draftbot shows a user, in one place, so the tone stays consistent.

Messages say what happened and what to do next; they never contain raw API errors. Labels
of buttons and forms, and the words of usage reports, are in the modules beside this one;
all of them are read as `wording.NAME`.
"""

from __future__ import annotations

from bot.wording.access import *  # noqa: F403
from bot.wording.canvases import *  # noqa: F403
from bot.wording.checks import *  # noqa: F403
from bot.wording.files import *  # noqa: F403
from bot.wording.labels import *  # noqa: F403
from bot.wording.outcomes import *  # noqa: F403
from bot.wording.presets import *  # noqa: F403
from bot.wording.reports import *  # noqa: F403
from bot.wording.versions import *  # noqa: F403

WORKING = "Drafting your {noun}…"
WORKING_ANY = "Drafting…"  # kinds without a noun (the catch-all)

NEEDS_DETAILS = (
    "What should the {noun} say? Add a few details after the word, for example:\n"
    "`{command} {example}`"
)
NEEDS_DETAILS_NOUN = "draft"  # for kinds without a noun

TRUNCATED = (
    "This draft was cut off because it reached the length limit for {kind} drafts "
    "({max_tokens:,} tokens). Click *Continue* to get the rest, ask for a shorter version, "
    "or split the request into parts."
)

CONTEXT_FULL = (
    "This draft stopped early because the request and the draft together were too long "
    "for Claude. Shorten the text you pasted and try again."
)

REFUSED = (
    "Claude didn't write this one, because the request looked like something it can't help "
    "with. If that's a mistake, try rewording the request, and tell your Draftbot admin if "
    "it keeps happening."
)

EMPTY_DRAFT = "Claude returned an empty draft. Please try again with a few more details."

BUSY = (
    "Claude is very busy right now and couldn't take your request, even after a few tries. "
    "Please try again in a minute."
)

UNAVAILABLE = (
    "Draftbot couldn't reach Claude just now (the service may be down or slow). "
    "Please try again in a few minutes; if it keeps happening, tell your Draftbot admin."
)

MISCONFIGURED = (
    "Draftbot isn't set up correctly, so it couldn't ask Claude. This isn't your fault: "
    "please let your Draftbot admin know (the details are in Draftbot's log)."
)

TOO_LONG = (
    "Your request is too long for Claude to handle in one go. Shorten the text you pasted "
    "(or split it in parts) and try again."
)

REJECTED = (
    "Claude couldn't accept this request. Try rewording it; if it keeps happening, "
    "tell your Draftbot admin (the details are in Draftbot's log)."
)

UNEXPECTED = (
    "Something went wrong inside Draftbot while drafting. Please try again; "
    "if it keeps happening, tell your Draftbot admin."
)

REFERENCE = "Reference for your admin: `{reference}`"

# Before any request runs, Draftbot checks (once, shared) that Slack accepts its bot token.
SLACK_UNREACHABLE = (
    "Draftbot couldn't reach Slack just now, so your request didn't start. "
    "Please try again in a minute."
)

SLACK_TOKEN_REFUSED = (
    "Slack no longer accepts Draftbot's token (the app may have been removed from this "
    "workspace), so your request didn't start. Please ask your Slack admin to reinstall Draftbot."
)

SENT_AS_FILE = (
    "This draft is too long for Slack messages, so the full text is in a file in your "
    "direct messages with Draftbot. Here is the beginning:"
)

DRAFT_FOOTER = "Only you can see this draft. {kind} · {seconds:.1f} s"

# The style check on a preview: `{words}` is like 'utilize' and 'touch base'.
STYLE_FLAG = ":pencil2: This draft contains {words}, which the {style} avoids."
STYLE_COMPANY = "company style"
STYLE_HOUSE = "house style"
STYLE_FIXING = "Fixing the style…"
STYLE_NOTHING_TO_FIX = (
    "This draft no longer has any of the words the style avoids, so there was nothing to fix."
)

HELP_INTRO = (
    "*Draftbot writes first drafts for you with Claude.* Type `{command}` followed by what you "
    "need; the draft comes back here, visible only to you."
)

HELP_KIND_LINE = "• *{name}*: {description}\n   `{command} {example}`"

HELP_OUTRO = (
    "Anything else works too: `{command} a short bio for our new office manager, Sam`. "
    "Tip: say who it's for, the tone and the length."
)

OVER_BUDGET = (
    "Draftbot didn't start this draft because it could cost up to {needed}, and you have "
    "{left} left of your {limit} Draftbot budget for {month} (before a draft starts, Draftbot "
    "sets aside the most it could cost). Your budget starts again on {resets_on}. If you need "
    "more before then, ask {admins}."
)
OVER_BUDGET_USED_UP = (
    "You've used all of your {limit} Draftbot budget for {month} ({spent}), so Draftbot "
    "didn't start this draft. Your budget starts again on {resets_on}. If you need more "
    "before then, ask {admins}."
)

BUDGET_NOTICE = (
    ":bulb: Heads-up: you've used {percent} of your monthly Draftbot budget "
    "({spent} of {limit}). It starts again on {resets_on}."
)

BUDGET_ADMIN_ALERT = (
    "{user} has used {percent} of their monthly Draftbot budget ({spent} of {limit}) in {month}."
)

USAGE_SUMMARY = "*Your Draftbot usage in {month}:* {drafts}, {spent}."

USAGE_BUDGET_LEFT = "Budget: {limit} a month, {remaining} left (starts again on {resets_on})."

USAGE_NO_BUDGET = "There is no spending limit on your drafts."

ADMINS_ONLY = (
    "Sorry, `{command} {subcommand}` is only for Draftbot admins. If you need usage figures, "
    "ask {admins}. (`{command} usage` shows your own.)"
)

REPORT_WORKING = "Preparing the usage report…"

REPORT_FILES_SENT = "The chart and the CSV are in your direct messages with Draftbot."

REPORT_FILES_FAILED = (
    "The chart and CSV could not be sent to your direct messages (Slack said: {error}). "
    "Try `draftbot report` on the server instead."
)

BUDGET_USAGE = (
    "To set someone's monthly budget: `{command} budget @person 25` (US dollars). "
    "`{command} budget @person none` removes their own limit."
)

BUDGET_BAD_AMOUNT = (
    "Draftbot can't use that as a monthly budget. Give an amount in US dollars from {lowest} "
    "to {highest}, for example `{command} budget @person 25`, or `none` to remove their own "
    "limit."
)

BUDGET_SET = "{user}'s monthly Draftbot budget is now {limit}. They have used {spent} in {month}."

BUDGET_REMOVED = "{user} no longer has their own budget; the default applies ({default})."

DRAFT_EXPIRED = (
    "This draft is no longer available (drafts are kept for {days} days). "
    "Type the command again to start a new one."
)

NOT_YOUR_DRAFT = "Only {author} can change or post this draft."

DRAFT_BUSY = "Draftbot is already working on this draft. One moment…"

DRAFT_FINISHED = "This draft was already {status}."

POSTED = ":white_check_mark: Posted in <#{channel}>."

POST_ATTRIBUTION = "Drafted with Draftbot by <@{user}>"

CANNOT_POST_NOT_IN_CHANNEL = (
    "I can't post in <#{channel}> because I'm not a member there. Invite me with "
    "`/invite @Draftbot` in that channel and click *Post to channel* again, or copy the "
    "draft above."
)

CANNOT_POST_DM = (
    "I can't post into a conversation between people. Copy the draft above and paste it "
    "there yourself."
)

CANNOT_POST = (
    "Slack didn't let me post in <#{channel}> ({reason}). Copy the draft above and paste it "
    "yourself, or ask your Draftbot admin."
)

DISCARDED = "Draft discarded."

EDIT_TOO_LONG = (
    "This draft is too long to edit in a Slack form (the limit is 3,000 characters). "
    "Copy it, edit it, and post it yourself."
)

EDIT_EMPTY = "The draft is empty. Write something, or close this form to keep the original."

FORM_DETAILS_TOO_SHORT = "Tell Draftbot a little more: what is it about, and who is it for?"

READING_CONVERSATION = "Reading the conversation…"

SUMMARIZE_REQUEST = "summary of this Slack conversation"

CHOOSE_CHANNEL = "Choose the channel to post this draft in."

HOME_INTRO = (
    "Draftbot writes first drafts for you with Claude: emails, summaries, messages, "
    "formulas and more. Type `{command}` and what you need in any channel, write to me here "
    "in *Messages*, or use the form."
)

HOME_TIPS = (
    "Tips: say who it's for, the tone and the length. Use *Summarize thread* from any "
    "message's ⋮ menu. `{command} usage` shows your month."
)
HOME_ADMIN_CHANGES = "*Recent admin changes* (admins see this; `draftbot audit` has them all)"
HOME_NO_ADMIN_CHANGES = "None yet."
HOME_ADMIN_CHANGE = "• {when} UTC: {actor} changed the {setting} of {subject}: {change}"

QUEUED = (
    "Claude is busy with other drafts right now: yours is number {position} in the queue "
    "and will start shortly."
)

QUEUE_FULL = (
    "Claude is busy with other drafts right now and the queue is full, so Draftbot didn't "
    "start yours (nothing was spent). Please try again in a few minutes."
)

QUEUE_WAIT_TOO_LONG = (
    "Your draft waited in the queue too long while Claude was busy with other drafts, so "
    "Draftbot stopped waiting (nothing was spent). Please try again in a few minutes."
)

SLOW = (
    "Claude is slow right now and didn't finish your draft in time, so Draftbot stopped "
    "waiting. Please try again in a few minutes."
)

CUT_OFF_SLOW = (
    "Claude is slow right now, so this draft stopped before the end. Click *Continue* to "
    "get the rest, or try again in a few minutes."
)

CANNOT_SEE_CONVERSATION = (
    "Draftbot can only read conversations you can see yourself, and <#{channel}> is a private "
    "conversation you're not in. Ask someone in it to run the summary, or paste the text."
)

CANNOT_SEE_AS_GUEST = (
    "Guests, and people from other organizations, can only have Draftbot read conversations "
    "they're in, and you're not in <#{channel}>. Ask someone in it to run the summary, or "
    "paste the text."
)

CANNOT_SEE_SHARED = (
    "<#{channel}> is shared with another organization, so Draftbot reads it only for people "
    "in it, and you're not. Join it first, or ask someone in it to run the summary."
)

CANNOT_CHECK_ACCESS = (
    "Draftbot couldn't check with Slack that you can see <#{channel}>, so it didn't read it. "
    "Please try again in a minute."
)

POST_NO_LONGER_A_MEMBER = (
    "You're not a member of <#{channel}> now, so Draftbot didn't post this draft there. Join "
    "<#{channel}> and click *Post to channel* again, or copy the draft above."
)

POST_NOT_A_MEMBER = (
    "You can only post drafts in conversations you're a member of. Join <#{channel}> first, "
    "or pick another one."
)

# ------------------------------------------------------------------ reading conversations

CANNOT_READ_MISSING_SCOPE = (
    "Draftbot isn't allowed to read message history in this workspace yet. Please ask "
    "your Slack admin to reinstall Draftbot with the message history scopes ({scopes}), "
    "then try again."
)

CANNOT_READ_DM = (
    "I can't read that direct message conversation: I can only read conversations "
    "I've been added to. Paste the messages after `/draft summary` instead."
)

CANNOT_READ_NOT_INVITED = (
    "I can't read {channel} yet. Invite me with `/invite @Draftbot` in {channel}, then try again."
)

CANNOT_READ_NOT_FOUND = (
    "I can't see that conversation: either it's a private channel I haven't been "
    "invited to, or the link is wrong. If it's private, invite me with "
    "`/invite @Draftbot` in that channel and try again; otherwise copy the message "
    "link again (⋮ More actions → Copy link)."
)

CANNOT_READ_NO_MESSAGE = (
    "I couldn't find that message in {channel}. It may have been deleted, or the link "
    "may be incomplete: copy the message link again (⋮ More actions → Copy link) and "
    "try again."
)

BAD_SLACK_LINK = (
    "That Slack link doesn't point at a message, so Draftbot didn't start a draft. Copy the "
    "message link again (⋮ More actions → Copy link) and paste it whole, or paste the text "
    "itself."
)

TRANSCRIPT_TRIMMED = (
    "Summary of the first message and the newest {recent:,} of {total:,} messages; "
    "{left_out:,} older replies were left out to fit."
)

# ------------------------------------------------------------------ where replies go

DELIVERED_TO_DM = (
    "Slack wouldn't let me show this draft where you asked for it, so it's here in our "
    "direct messages instead."
)

CANNOT_OPEN_FORM = (
    "Slack couldn't open the form just now (it may have taken too long). Click the button "
    "again; if it keeps happening, copy the draft and post it yourself."
)

ADMIN_CONTACT_UNKNOWN = "your Draftbot admin"

DRAFT_CUT_SHORT = (
    "This draft is longer than Slack messages allow, and the file with the whole text "
    "couldn't be sent, so the end is cut off here. Ask for a shorter version."
)

DATABASE_DOWN = (
    "Draftbot can't record what drafts cost right now (its database isn't answering), so it "
    "isn't starting new drafts until that's fixed. Please try again later, and tell your "
    "Draftbot admin if it keeps happening."
)

SLACK_BUSY = (
    "Slack is busy right now and asked Draftbot to slow down, so that didn't go through. "
    "Please try again in a minute."
)

DATABASE_BUSY = (
    "Draftbot's database is busy or not answering just now, so that didn't go through. "
    "Please try again in a minute; if it keeps happening, tell your Draftbot admin."
)


def counted(number: int, one: str, many: str) -> str:
    """ "1 draft", "3 drafts", "1 person", "2 people": a count with its noun, for Slack."""
    return f"{number:,} {one if number == 1 else many}"
