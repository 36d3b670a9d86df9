"""The words of draft versions: the preview's "v3 · shorter", Changes and Back to
(read as `wording.NAME`)."""

from __future__ import annotations

# What made a version, as the preview's label says it ("v3 · shorter"). A refinement not
# named here shows its name with spaces.
VERSION_MADE_BY = {
    "draft": "first draft",
    "regenerate": "regenerated",
    "shorter": "shorter",
    "longer": "longer",
    "formal": "more formal",
    "friendlier": "friendlier",
    "simpler": "simpler words",
    "continue": "continued",
    "fix_style": "style fixed",
    "edit": "edited",
    "restore": "restored v{number}",
}
VERSION_LABEL = "v{number} · {made_by}"  # "v3 · shorter"

LABEL_CHANGES = "Changes"
LABEL_BACK_TO = "Back to v{number}"  # the one earlier version, as a button
LABEL_BACK_TO_MENU = "Back to an earlier version"  # two or more: a menu of them

CHANGES_TITLE = "Changes in v{number}"  # a modal title: at most 24 characters
CHANGES_CLOSE = "Close"
CHANGES_INTRO = (
    "What changed from *{before}* to *{after}*: ~struck~ words were taken out, *bold* "
    "words were put in."
)
CHANGES_NONE = "No words changed from {before} to {after}."
CHANGES_CUT = "These versions are too long to show every change here: the rest is left out."
CHANGES_NO_EARLIER = (
    "There's no earlier version to compare with: this is the first one Draftbot still keeps."
)

NO_EARLIER_VERSION = "There's no earlier version of this draft to go back to."
VERSION_GONE = (
    "Draftbot no longer keeps v{number} of this draft: it keeps the newest {kept} versions."
)
