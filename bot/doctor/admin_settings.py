"""What admins changed while Draftbot runs, as every instance applies it: the channel
presets (`draftbot channel`) and the access rules overriding the settings (`draftbot
access`), a line each."""

from __future__ import annotations

from bot.access_overrides import RULES, effective_rules, rules_in_force
from bot.channel_settings import ChannelPreset, instructions_summary
from bot.config import Settings
from bot.doctor.access import describe_rules
from bot.doctor.report import Check, not_checked
from bot.storage import open_store

PRESETS_CHECK = "Channel presets"
OVERRIDES_CHECK = "Access overrides"


def admin_settings_checks(settings: Settings | None) -> list[Check]:
    if settings is None:
        reason = "the settings need fixing first (see above)"
        return [not_checked(PRESETS_CHECK, reason), not_checked(OVERRIDES_CHECK, reason)]
    try:
        store = open_store(settings.database_url)
    except Exception:  # the Database check says why
        reason = "the database needs fixing first (see above)"
        return [not_checked(PRESETS_CHECK, reason), not_checked(OVERRIDES_CHECK, reason)]
    try:
        presets = [ChannelPreset.from_row(row) for row in store.channel_settings()]
        overrides = store.access_overrides()
    finally:
        store.close()
    return [_presets_check(presets), _overrides_check(settings, overrides)]


def preset_line(preset: ChannelPreset) -> str:
    name = f" (#{preset.channel_name})" if preset.channel_name else ""
    if not preset.enabled:
        return f"{preset.channel_id}{name}: switched off"
    parts = [
        f"kind {preset.default_kind}" if preset.default_kind else "",
        f"model {preset.model}" if preset.model else "",
        f"tone {preset.tone}" if preset.tone else "",
        f"instructions {instructions_summary(preset.instructions)}" if preset.instructions else "",
    ]
    return f"{preset.channel_id}{name}: {', '.join(p for p in parts if p)}"


def _presets_check(presets: list[ChannelPreset]) -> Check:
    if not presets:
        return Check(PRESETS_CHECK, ok=True, detail="No channel has a preset.")
    lines = "; ".join(preset_line(preset) for preset in presets)
    count = f"{len(presets)} channel{'s' if len(presets) != 1 else ''}"
    return Check(PRESETS_CHECK, ok=True, detail=f"{count} with a preset: {lines}.")


def _overrides_check(settings: Settings, rows: dict[str, dict[str, object]]) -> Check:
    if not rows:
        return Check(OVERRIDES_CHECK, ok=True, detail="None: the access settings apply as set.")
    overridden = [found for found in rules_in_force(settings.access, rows) if found.overridden]
    listed = ", ".join(
        f"{RULES[found.rule]}={found.value or '(empty)'} (by {found.set_by}, "
        f"{(found.set_at or '')[:16].replace('T', ' ')} UTC)"
        for found in overridden
    )
    rules = effective_rules(
        settings.access, {rule: str(row["value"]) for rule, row in rows.items()}
    )
    return Check(
        OVERRIDES_CHECK,
        ok=True,
        detail=f"In force instead of the settings: {listed}. {describe_rules(rules)}",
        fix="`draftbot access show` lists them; `draftbot access reset` goes back to the settings.",
    )
