"""Labels of buttons, forms and the Home tab (read as `wording.NAME`)."""

from __future__ import annotations

LABEL_POST = "Post to channel"
LABEL_EDIT = "Edit"
LABEL_DISCARD = "Discard"
LABEL_CHANGE_TONE = "Change tone"
LABEL_FIX_STYLE = "Fix style"
LABEL_OPEN_FORM = "Draft something"
LABEL_CANCEL = "Cancel"

FORM_TITLE = "Draft with Draftbot"
FORM_SUBMIT = "Draft it"
FORM_KIND = "What should Draftbot write?"
FORM_DETAILS = "Details"
FORM_DETAILS_HINT = "Who it's for, what it should say, anything to include. Paste text here."
FORM_DETAILS_PLACEHOLDER = "e.g. to Alex asking to move Friday's meeting to Monday"
FORM_AUDIENCE = "Audience"
FORM_AUDIENCE_PLACEHOLDER = "e.g. a new client, my team, the CFO"
FORM_TONE = "Tone"
FORM_LENGTH = "Length"
FORM_WHERE = "Where will you post it?"
FORM_TONES = ("Neutral", "Friendly", "Formal", "Firm", "Enthusiastic", "Apologetic")
FORM_LENGTHS = ("Short", "Medium", "Long")

EDIT_TITLE = "Edit draft"
EDIT_LABEL = "Your draft"
EDIT_WHERE = "Post it in"

CHOOSE_CHANNEL_TITLE = "Post draft"
CHOOSE_CHANNEL_SUBMIT = "Post"

HOME_HEADER = "Draftbot"
HOME_KINDS_HEADING = "*What Draftbot can write*"
