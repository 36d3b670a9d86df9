"""How a recorded admin change reads, the same in `draftbot audit` and the Home tab."""

from __future__ import annotations

from bot.pricing import format_usd


def change_text(setting: str, old: str | None, new: str | None) -> str:
    """ "$25.00 → default": a budget in dollars (none: the default applies)."""
    return f"{_value(setting, old)} → {_value(setting, new)}"


def _value(setting: str, value: str | None) -> str:
    if setting == "budget":
        return "default" if value is None else format_usd(int(value))
    return "-" if value is None else value
