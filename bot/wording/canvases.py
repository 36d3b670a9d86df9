"""The words of canvases and translations (read as `wording.NAME`), including the lines
Draftbot adds to a translation request for the model."""

from __future__ import annotations

LABEL_OPEN_CANVAS = "Open as canvas"

CANVAS_TITLE = "{kind} draft"  # "Agenda draft"
CANVAS_OPENING = "Opening your draft as a canvas…"
CANVAS_READY = (
    "Your draft is in a canvas only you can see so far: <{url}|open it>. You can edit it "
    "there, and share it from the canvas when it's ready."
)
CANVAS_IN_CHANNEL = (
    "This workspace doesn't allow canvases of their own, so your draft is in <#{channel}>'s "
    "canvas tab: <{url}|open it>. Everyone in <#{channel}> can see it there."
)
CANVAS_AS_FILE = (
    "Canvases aren't available here (this workspace's plan or its admins don't allow them "
    "for Draftbot), so your draft is in a file in your direct messages with Draftbot instead."
)
CANVAS_UNAVAILABLE = (
    "Canvases aren't available here (this workspace's plan or its admins don't allow them "
    "for Draftbot), and the file with your draft couldn't be sent either. Try again in a "
    "minute, or copy the draft from the preview."
)
SENT_AS_CANVAS = (
    "This draft is too long for Slack messages, so the full text is in a canvas only you "
    "can see so far: <{url}|open it>. Here is the beginning:"
)

TRANSLATE_REQUEST = "translate this message"
TRANSLATE_INTO = "\n\nTranslate into: {language} (the person's Slack language; they named none)."
TRANSLATE_CANNOT_CONFIRM = (
    "Draftbot translates messages only where Slack confirms you can read the conversation, "
    "and it couldn't confirm that for <#{channel}> (Draftbot may not be in it). Add Draftbot "
    "to the conversation, or copy the text and use `{command} translate: …` instead."
)
TRANSLATE_NOTHING = (
    "That message has no text to translate. Try the shortcut on a message with words in it."
)
