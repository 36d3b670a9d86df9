"""What Draftbot says about files people share with it (read as `wording.NAME`)."""

from __future__ import annotations

FILE_FORMATS = (
    "PDF, Word (.docx), Excel (.xlsx), CSV, text, Markdown and HTML files, and PNG, JPEG, GIF "
    "and WebP images"
)
FILE_UNSUPPORTED = "Draftbot can't read {name} ({type}). It reads {formats}."
FILE_TOO_LARGE = (
    "{name} is {size}, more than the {limit} Draftbot can send Claude for one {what}. "
    "Share a smaller file, or copy the part that matters into your message."
)
FILES_TOO_LARGE_TOGETHER = (
    "Together these files are {size}, more than the {limit} Claude takes in one request. "
    "Share fewer files at a time."
)
TOO_MANY_FILES = "Draftbot reads up to {limit} files at a time; it left out {names}."
IMAGE_TOO_MANY_PIXELS = (
    "{name} is {width} × {height} pixels, more than the {limit} × {limit} Claude takes. "
    "Share a smaller version of the image."
)
FILE_PASSWORD = (
    "{name} is password-protected, so Claude can't read it. Share a copy without the password."
)
FILE_DAMAGED = (
    "Draftbot couldn't open {name}: the file looks damaged, or isn't really {what}. "
    "Try saving or exporting it again."
)
FILE_EMPTY = "Draftbot found no text in {name}, so there is nothing for Claude to read."
FILE_PAGES_CUT = "{name} has {pages} pages; Claude read the first {limit}."
FILE_TEXT_CUT = "{name} is long; Claude read its first {chars:,} characters."
FILES_NOT_READ = "Draftbot couldn't read every file:\n{reasons}"
NO_FILE_READ = "Draftbot couldn't read the file you shared:\n{reasons}"

# What the model is told when a person shares files with no words (not shown to people).
FILE_ONLY_REQUEST = "Summarize the attached file."

# Files shared in Slack that Draftbot cannot download.
FILE_NEEDS_SCOPE = (
    "Draftbot isn't allowed to open files yet, so it couldn't read {name}. Ask your Draftbot "
    "admin to reinstall the app with the files:read permission (`draftbot doctor` checks it)."
)
FILE_NOT_VISIBLE = (
    "Slack didn't let Draftbot open {name}: it may have been deleted, or shared somewhere "
    "Draftbot can't see."
)
FILE_EXTERNAL = (
    "{name} is stored outside Slack, so Draftbot can't read it. Download it and share the "
    "file itself."
)
FILE_DOWNLOAD_FAILED = "Draftbot couldn't download {name} from Slack. Please try again."

FORM_FILES = ":page_facing_up: Draftbot will read {names}."
NO_FILES_IN_MESSAGE = (
    "That message has no files. Use *Draft from this file…* on a message with a PDF, document, "
    "spreadsheet or image in it."
)
