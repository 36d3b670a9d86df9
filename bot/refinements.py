"""What each preview button asks the model to do. One source of truth for labels and prompts."""

from __future__ import annotations

from dataclasses import dataclass

from bot import wording
from bot.style_check import StyleHit

_KEEP = (
    " Keep the same kind of draft, language, names and facts, and reply with the complete "
    "revised draft only."
)


@dataclass(frozen=True)
class Refinement:
    name: str  # the action, and the `source` of its usage row
    label: str  # what the button or menu says
    working: str  # shown while the model works
    instruction: str | None  # None: draft again from the original request
    continues: bool = False  # the reply is appended to the draft instead of replacing it
    fixes_style: bool = False  # the instruction names the draft's style hits (see below)


REFINEMENTS: dict[str, Refinement] = {
    r.name: r
    for r in (
        Refinement("regenerate", "Regenerate", "Writing a new version…", None),
        Refinement(
            "shorter",
            "Shorter",
            "Making it shorter…",
            "Make this draft noticeably shorter (about half the length), keeping the main "
            "point and any request or deadline." + _KEEP,
        ),
        Refinement(
            "longer",
            "Longer",
            "Making it longer…",
            "Make this draft somewhat longer and more complete, adding helpful detail or "
            "context only where it is clearly implied; use placeholders instead of inventing "
            "facts." + _KEEP,
        ),
        Refinement(
            "formal",
            "More formal",
            "Making it more formal…",
            "Rewrite this draft in a more formal, polished professional tone." + _KEEP,
        ),
        Refinement(
            "friendlier",
            "Friendlier",
            "Making it friendlier…",
            "Rewrite this draft in a warmer, friendlier tone, still professional." + _KEEP,
        ),
        Refinement(
            "simpler",
            "Simpler words",
            "Using simpler words…",
            "Rewrite this draft in plain, simple words and short sentences that anyone can "
            "follow easily." + _KEEP,
        ),
        Refinement(
            "continue",
            "Continue",
            "Continuing the draft…",
            "Your draft above was cut off before its end. Continue it exactly where it "
            "stopped: do not repeat anything already written and do not add any preamble; "
            "reply with only the remaining text.",
            continues=True,
        ),
        Refinement(
            "fix_style",
            wording.LABEL_FIX_STYLE,
            wording.STYLE_FIXING,
            "Rewrite this draft without the following words and phrases, which the style "
            "avoids, in any form:",
            fixes_style=True,
        ),
    )
}
TONES = ("formal", "friendlier", "simpler")


def fix_style_instruction(base: str, hits: tuple[StyleHit, ...]) -> str:
    """Fix style's instruction: each word or phrase found, with its preferred wording."""
    lines = [base]
    for hit in hits:
        preferred = hit.rule.preferred
        instead = f'write "{preferred}" instead' if preferred else "say it plainly instead"
        lines.append(f'- "{hit.found}": {instead}')
    lines.append(
        "Change only the sentences that contain them, and do not use any of them again." + _KEEP
    )
    return "\n".join(lines)
