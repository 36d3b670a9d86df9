"""Check before you post: the preview's warnings and the confirm on Post (read as
`wording.NAME`)."""

from __future__ import annotations

CHECK_FINDING = ":warning: check: *{text}* in “{sentence}”"
CHECK_MORE = "and {count} more not in your request"
CHECK_FILL_IN = ":pencil: fill in before posting: {placeholders}"
CHECK_LIST_MORE = "{shown} and {count} more"

POST_CONFIRM_TITLE = "Post with placeholders?"
POST_CONFIRM_TEXT = "This draft still has {count} to fill in: {placeholders}. Post anyway?"
POST_CONFIRM_YES = "Post anyway"
POST_CONFIRM_NO = "Keep editing"
PLACEHOLDER_ONE = "placeholder"
PLACEHOLDER_MANY = "placeholders"

EDIT_STILL_HAS_PLACEHOLDERS = (
    ":pencil: This still has {count} to fill in: {placeholders}. Fill them in, or post "
    "again to send it as it is."
)
