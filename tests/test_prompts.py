"""Prompt files: routing from what people type, cacheable sizes, and clear errors for admins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_PROMPTS_DIR
from bot.prompts import PromptError, load_prompts

LIBRARY = load_prompts(DEFAULT_PROMPTS_DIR)
# Sonnet's minimum cacheable prefix has been 2,048 tokens in practice.
# Four characters a token undercounts English text, so this estimate errs on the safe side.
MIN_CACHEABLE_TOKENS = 2_048
SAFETY_MARGIN = 1.2


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("email to Alex about the Q2 budget", "email"),
        ("Email: reply to Sam", "email"),
        ("an email to Alex…", "email"),
        ("please write me a quick email to the landlord", "email"),
        ("help me write an email to finance", "email"),
        ("mail to the team", "email"),
        ("summarize this: we met and agreed", "summary"),
        ("Summarise the notes below", "summary"),
        ("tl;dr of the thread", "summary"),
        ("code python function to dedupe a list", "code"),
        ("snippet: sql for monthly totals", "code"),
        ("a spreadsheet formula that sums column B", "code"),
        ("announcement about the office move", "message"),
        ("write a bio for Sam", "general"),
        ("the agenda for Monday's offsite", "general"),
        ("Bonjour, un email pour Alex", "general"),
    ],
)
def test_routing_picks_the_kind_from_the_first_words(text: str, kind: str) -> None:
    route = LIBRARY.route(text)
    assert route.kind is not None and route.kind.name == kind
    assert route.text == text.strip()


@pytest.mark.parametrize("text", ["", "   ", "help", "Help", "?"])
def test_help(text: str) -> None:
    assert LIBRARY.route(text).is_help


@pytest.mark.parametrize("text", ["email", "an email", "please write a summary"])
def test_a_kind_without_details_needs_details(text: str) -> None:
    assert LIBRARY.route(text).needs_details


def test_required_kinds_exist_with_aliases() -> None:
    for name, alias in [
        ("email", "mail"),
        ("summary", "summarize"),
        ("summary", "tldr"),
        ("code", "snippet"),
    ]:
        kind = LIBRARY.find(alias)
        assert kind is not None and kind.name == name
    assert LIBRARY.default_kind.name == "general"


def test_every_cached_prefix_is_comfortably_above_the_minimum() -> None:
    house_tokens = len(LIBRARY.house_style) / 4
    assert house_tokens >= MIN_CACHEABLE_TOKENS * SAFETY_MARGIN
    for kind in LIBRARY.kinds:
        blocks = LIBRARY.system_blocks(kind)
        assert [b["cache_control"] for b in blocks] == [{"type": "ephemeral"}] * 2
        prefix_tokens = sum(len(b["text"]) for b in blocks) / 4
        assert prefix_tokens >= MIN_CACHEABLE_TOKENS * SAFETY_MARGIN, kind.name
        # The kind block must add enough that its own breakpoint is worth caching.
        assert len(kind.body) / 4 >= 500, kind.name


def test_one_hour_ttl_marks_both_breakpoints() -> None:
    blocks = LIBRARY.system_blocks(LIBRARY.kinds[0], ttl="1h")
    assert [b["cache_control"] for b in blocks] == [{"type": "ephemeral", "ttl": "1h"}] * 2


def test_a_new_file_adds_a_kind_without_code(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "agenda.md").write_text(
        "---\nname: agenda\naliases: [agendas]\ndescription: Meeting agendas\n"
        "example: agenda for the Monday planning meeting\nmax_tokens: 700\n"
        "model: claude-haiku-4-5\n---\nWrite a meeting agenda.\n"
    )
    library = load_prompts(tmp_path)
    route = library.route("agendas for Monday")
    assert route.kind is not None and route.kind.name == "agenda"
    assert route.kind.model == "claude-haiku-4-5" and route.kind.max_tokens == 700


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("---\nname: x\n---\nbody", "needs `description:`"),
        ("---\nname: x\ndescription: d\nexample: e\nmax_tokens: lots\n---\nbody", "max_tokens"),
        ("---\nname: x\ndescription: d\nexample: e\nmax_tokens: 5\n---\n", "body"),
        ("---\nname: [x\n---\nbody", "not valid YAML"),
        (
            "---\nname: x\naliases: mail\ndescription: d\nexample: e\nmax_tokens: 5\n---\nb",
            "names two kinds",
        ),
    ],
)
def test_broken_prompt_files_are_explained(tmp_path: Path, content: str, complaint: str) -> None:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "broken.md").write_text(content)
    with pytest.raises(PromptError, match=complaint):
        load_prompts(tmp_path)
