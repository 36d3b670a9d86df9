"""The `Check` every doctor module returns, and what turns a group of them into a report."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, replace

NETWORK_TIMEOUT = 10.0  # seconds, per request
GROUP_TIMEOUT = 45.0  # seconds, for a chain of requests (the model checks make several)


@dataclass(frozen=True)
class Check:
    name: str  # short, e.g. "Slack bot token"
    ok: bool
    detail: str  # what was found, in plain words
    fix: str = ""  # when not ok (or a warning): what to do, concretely
    warning: bool = False  # ok but worth attention (doesn't fail the exit status)


def not_checked(name: str, reason: str) -> Check:
    return Check(name, ok=True, warning=True, detail=f"Not checked: {reason}.")


def render_checks(checks: list[Check]) -> str:
    """One line per check (✓ passed, ✗ failed, ! worth attention), indented fixes, a summary."""
    lines: list[str] = []
    for check in checks:
        mark = "✗" if not check.ok else "!" if check.warning else "✓"
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix and (not check.ok or check.warning):
            lines.append(f"    Fix: {check.fix}")
    total = len(checks)
    failed = sum(1 for check in checks if not check.ok)
    warnings = sum(1 for check in checks if check.ok and check.warning)
    lines.append("")
    if failed:
        lines.append(f"{failed} of {total} checks failed.")
    else:
        summary = f"All {total} check{'' if total == 1 else 's'} passed."
        if warnings:
            summary += f" {warnings} {'is' if warnings == 1 else 'are'} worth a look (marked !)."
        lines.append(summary)
    return "\n".join(lines)


async def guard(name: str, work: Awaitable[list[Check]]) -> list[Check]:
    """Run one group of checks; anything unexpected becomes a failed check, not a crash."""
    try:
        return await asyncio.wait_for(work, GROUP_TIMEOUT)
    except TimeoutError:
        return [
            Check(
                name,
                ok=False,
                detail=f"No answer within {GROUP_TIMEOUT:.0f} seconds.",
                fix="Check this machine's network connection and firewall, then run "
                "draftbot doctor again.",
            )
        ]
    except Exception as error:
        return [
            Check(
                name,
                ok=False,
                detail=f"The check itself failed unexpectedly ({type(error).__name__}: {error}).",
                fix="Run draftbot doctor again; if this persists, report it with this output.",
            )
        ]


def redact(check: Check, secrets: list[str]) -> Check:
    """Belt and braces: no secret value survives into the report, whatever an error said."""
    name, detail, fix = check.name, check.detail, check.fix
    for secret in sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True):
        name = name.replace(secret, "[hidden]")
        detail = detail.replace(secret, "[hidden]")
        fix = fix.replace(secret, "[hidden]")
    return replace(check, name=name, detail=detail, fix=fix)


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
