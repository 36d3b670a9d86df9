"""The words of feedback and of a person's list of drafts (read as `wording.NAME`)."""

from __future__ import annotations

LABEL_FEEDBACK_UP = "👍"
LABEL_FEEDBACK_DOWN = "👎"
FEEDBACK_UP_ALT = "This draft was useful"  # what screen readers say for the buttons
FEEDBACK_DOWN_ALT = "This draft was not useful"
FEEDBACK_THANKS = "Thanks for the feedback."
FEEDBACK_REASON_TITLE = "What was wrong?"  # a modal title: 24 characters at most
FEEDBACK_REASON_LABEL = "In one line, what would have made it better? (optional)"
FEEDBACK_REASON_HINT = "Only the admins see this, beside the draft's kind; never the draft."
LABEL_FEEDBACK_SEND = "Send"

# My drafts: `/draft history` and the Home tab
HISTORY_HEADING = "*Your recent drafts*"
HISTORY_EMPTY = "No drafts yet. Try `{command} email to …`, or the form."
# "*email* · posted · Dec 2 at 09:14" then the first words on the next line.
HISTORY_LINE = "*{kind}* · {status} · {when}"
HISTORY_NO_TEXT = "_(its text is no longer kept)_"
HISTORY_STATUS = {
    "ready": "ready",
    "posted": "posted",
    "discarded": "discarded",
    "expired": "expired",
}
LABEL_HISTORY_OPEN = "Open"
LABEL_HISTORY_POST_AGAIN = "Post again"
HISTORY_NOT_READY = (
    "That draft was {status}, so there is nothing to open. Its text is kept until it expires."
)
HISTORY_NOT_POSTED = "Only a posted draft can be posted again; this one is {status}."


def duration(seconds: float) -> str:
    """ "45 s", "12 min", "3.5 h", "2.0 d": a time to post, for reports."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


REPORT_OUTCOMES_TITLE = "What the drafts became (drafts made in the period; see docs/reports.md):"
# The first line of the Slack report and the weekly digest: what the money bought.
REPORT_VALUE = "*{drafts}*, *{posted} posted ({share})*, {cost}, *{per_posted} per posted draft*"
REPORT_VALUE_NONE_POSTED = "*{drafts}*, none posted, {cost}"
REPORT_LEAST_POSTED = "; *{kind}* drafts are posted least ({share})"
