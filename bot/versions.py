"""Versions of a draft: v1 is what the model first wrote; every refinement, an edit and a
restore make the next one. Pure data: the texts are stored in `draft_versions` (migration
9, bot/storage/draft_versions.py) and purged with their draft.
"""

from __future__ import annotations

from dataclasses import dataclass

# Versions kept per draft. Past this many, the oldest is forgotten as each new one is made:
# numbers keep counting (v21, v22…) and only the newest MAX_VERSIONS can be compared with or
# restored. 20 is far more than people click through, and bounds a draft's rows.
MAX_VERSIONS = 20

FIRST = "draft"  # what made v1
EDIT = "edit"  # the Edit form, posted
RESTORE = "restore"  # "Back to v2": an earlier version's text, no model call


@dataclass(frozen=True)
class VersionTag:
    """One version, without its text: what the preview's label and menu need."""

    number: int
    made_by: str  # FIRST, a refinement's name (`shorter`, `formal`…), EDIT or RESTORE
    restored_from: int | None = None  # for RESTORE: the version it brought back


@dataclass(frozen=True)
class Version:
    tag: VersionTag
    text: str
    stop_reason: str
    created_at: str


FIRST_VERSION = VersionTag(1, FIRST)


def current(tags: tuple[VersionTag, ...]) -> VersionTag:
    """The version a draft shows now: the newest kept (v1 for a draft never refined)."""
    return tags[-1] if tags else FIRST_VERSION


def earlier(tags: tuple[VersionTag, ...]) -> tuple[VersionTag, ...]:
    """The versions a person may go back to, newest first."""
    return tuple(reversed(tags[:-1]))
