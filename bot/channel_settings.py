"""Per-channel presets: what admins set for one channel (extra instructions for the model, a
default kind, a model, a default tone, and whether Draftbot may be used there at all).

Stored in the `channel_settings` table, so every instance sharing the database applies
them; each instance reads a channel's preset through `ChannelPresets`, which keeps it for
`PRESET_CACHE_SECONDS`: a change made on one instance (or with `draftbot channel set`)
applies everywhere within that time, and at once on the instance that made it.

The channel's instructions (and its tone) reach the model as their own system block after
the kind's, with its own cache breakpoint (`bot.prompts.PromptLibrary.system_blocks`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import wording
from bot.pricing import PriceTable
from bot.prompts import PromptLibrary
from bot.storage import Storage, utc_now_iso
from bot.storage.channel_queries import Changes

log = logging.getLogger(__name__)

INSTRUCTIONS_LIMIT = 2_000  # characters of a channel's extra instructions
PRESET_CACHE_SECONDS = 10.0  # how long an instance keeps a channel's preset before reading again
FAILED_CACHE_SECONDS = 5.0  # after the database failed to answer, ask again no sooner than this
TONES: tuple[str, ...] = wording.FORM_TONES  # the form's tones, the same words everywhere

# What the model reads in a channel's block: the admins' words, then the default tone.
CHANNEL_BLOCK_INTRO = (
    "Instructions for drafts requested in this Slack channel, set by the workspace's Draftbot "
    "admins. Follow them unless the request itself says otherwise:"
)
CHANNEL_TONE = "Unless the request asks for another tone, write in a {tone} tone."

# The `admin_changes.setting` of each field a change may touch, in this order.
AUDITED_FIELDS = {
    "instructions": "channel instructions",
    "default_kind": "channel kind",
    "model": "channel model",
    "tone": "channel tone",
    "enabled": "channel enabled",
}


@dataclass(frozen=True)
class ChannelPreset:
    channel_id: str
    channel_name: str | None = None  # as Slack named it when the preset was set
    instructions: str = ""
    default_kind: str | None = None
    model: str | None = None
    tone: str | None = None
    enabled: bool = True
    updated_by: str = ""
    updated_at: str = ""

    @property
    def is_empty(self) -> bool:
        """Nothing set: the same as having no preset at all."""
        fields = (self.instructions.strip(), self.default_kind, self.model, self.tone)
        return self.enabled and not any(fields)

    @property
    def block_text(self) -> str | None:
        """The channel's system block for the model; None when it adds nothing to say."""
        lines = [self.instructions.strip()] if self.instructions.strip() else []
        if self.tone:
            lines.append(CHANNEL_TONE.format(tone=self.tone.lower()))
        return "\n\n".join([CHANNEL_BLOCK_INTRO, *lines]) if lines else None

    def row(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "channel_name": self.channel_name,
            "instructions": self.instructions or None,
            "default_kind": self.default_kind,
            "model": self.model,
            "tone": self.tone,
            "enabled": 1 if self.enabled else 0,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at or utc_now_iso(),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ChannelPreset:
        return cls(
            channel_id=row["channel_id"],
            channel_name=row.get("channel_name"),
            instructions=row.get("instructions") or "",
            default_kind=row.get("default_kind"),
            model=row.get("model"),
            tone=row.get("tone"),
            enabled=bool(row.get("enabled", 1)),
            updated_by=row.get("updated_by") or "",
            updated_at=row.get("updated_at") or "",
        )


def instructions_summary(text: str | None) -> str | None:
    """How instructions read in the audit log: their length and a short SHA-256 (the text
    itself stays in `channel_settings`; the log is shown on the Home tab and in terminals,
    and a hash still tells whether two versions, or a file, are the same)."""
    if not text:
        return None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return wording.PRESET_INSTRUCTIONS_SUMMARY.format(length=len(text), digest=digest)


def audit_value(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if field == "instructions":
        return instructions_summary(str(value))
    if field == "enabled":
        return "yes" if value else "no"
    return str(value)


def describe_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Changes:
    """(setting, old, new) for each field a change touches, as `admin_changes` records it."""
    changes = []
    for field, setting in AUDITED_FIELDS.items():
        # No preset at all: Draftbot may be used there ("yes"), and nothing else is set.
        absent = 1 if field == "enabled" else None
        before = audit_value(field, old[field] if old else absent)
        after = audit_value(field, new[field] if new else absent)
        if before != after:
            changes.append((setting, before, after))
    return changes


def find_tone(text: str) -> str | None:
    """The tone as the form spells it ("formal" → "Formal"); None when it is none of them."""
    return next((tone for tone in TONES if tone.lower() == text.strip().lower()), None)


def preset_problems(
    preset: ChannelPreset, library: PromptLibrary, prices: PriceTable
) -> dict[str, str]:
    """What is wrong with `preset`, a plain sentence per field (empty: it may be saved)."""
    problems = {}
    if len(preset.instructions) > INSTRUCTIONS_LIMIT:
        length = len(preset.instructions)
        problems["instructions"] = wording.PRESET_TOO_LONG.format(
            limit=INSTRUCTIONS_LIMIT, length=length
        )
    if preset.default_kind and library.find(preset.default_kind) is None:
        kinds = ", ".join(kind.name for kind in library.kinds)
        problems["default_kind"] = wording.PRESET_UNKNOWN_KIND.format(
            kind=preset.default_kind, kinds=kinds
        )
    if preset.model and preset.model not in prices.prices:
        models = ", ".join(sorted(prices.prices))
        problems["model"] = wording.PRESET_UNKNOWN_MODEL.format(model=preset.model, models=models)
    if preset.tone and find_tone(preset.tone) is None:
        tones = ", ".join(TONES)
        problems["tone"] = wording.PRESET_UNKNOWN_TONE.format(tone=preset.tone, tones=tones)
    return problems


def save_preset(store: Storage, preset: ChannelPreset) -> Changes:
    """Store `preset` and its audit rows in one transaction; the changes recorded."""
    return store.put_channel_setting(
        preset.channel_id, preset.row(), preset.updated_by, describe_changes
    )


def store_preset(store: Storage, preset: ChannelPreset) -> Changes:
    """Save `preset`, or remove the channel's when it sets nothing (the same thing)."""
    if preset.is_empty:
        return remove_preset(store, preset.channel_id, preset.updated_by)
    return save_preset(store, preset)


def remove_preset(store: Storage, channel_id: str, actor: str) -> Changes:
    """Remove the channel's preset (and record it); no changes: it had none."""
    return store.put_channel_setting(channel_id, None, actor, describe_changes)


class ChannelPresets:
    """Each channel's preset, read from the database at most every `ttl` seconds."""

    def __init__(
        self,
        store: Storage,
        ttl: float = PRESET_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, ChannelPreset | None]] = {}

    async def get(self, channel_id: str | None) -> ChannelPreset | None:
        """The channel's preset (None: it has none, or this is no channel). When the database
        fails, the last value read is used, and asked for again a few seconds later."""
        from bot.storage.offloop import off_loop  # asyncio: not loaded by `draftbot --help`

        if not channel_id:
            return None
        cached = self._cache.get(channel_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        try:
            row = await off_loop(self.store.channel_setting, channel_id)
        except Exception as error:
            log.warning("channel preset for %s not read (%s)", channel_id, type(error).__name__)
            stale = cached[1] if cached else None
            self._cache[channel_id] = (self.clock() + FAILED_CACHE_SECONDS, stale)
            return stale
        preset = ChannelPreset.from_row(row) if row else None
        self._cache[channel_id] = (self.clock() + self.ttl, preset)
        return preset

    def forget(self, channel_id: str) -> None:
        """After this instance changed the channel's preset: read it again next time."""
        self._cache.pop(channel_id, None)
