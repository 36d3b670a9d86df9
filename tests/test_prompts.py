"""Prompt files: routing from what people type, cacheable sizes, and clear errors for admins."""

from __future__ import annotations

import re
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


HOUSE = LIBRARY.house_style


def section_of(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split()[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n#{{1,{len(level)}}} ", after, maxsplit=1)[0]


def example_draft(request_starts: str) -> str:
    for request, draft in re.findall(
        r"<request>(.*?)</request>\s*<draft>(.*?)</draft>", HOUSE, re.S
    ):
        if request.startswith(request_starts):
            return str(draft)
    raise AssertionError(f"no house-style example whose request starts {request_starts!r}")


def test_a_kinds_bullet_count_is_a_ceiling_and_a_sparse_request_is_never_padded() -> None:
    rules = section_of(HOUSE, "## Follow the user's constraints exactly")
    assert "is a ceiling, not a quota" in rules
    assert "Never pad a list with duties, requirements, benefits or points" in rules
    assert "write one placeholder bullet such as `- [main duty]`" in rules
    # A count the user asks for stays exact, filled with placeholders rather than inventions.
    assert '"5 bullets" means exactly 5 bullets' in rules
    assert "complete the count with placeholder bullets (`- [requirement]`)" in rules
    # No kind asks for a fixed range of bullets any more: each count is "up to".
    for kind in LIBRARY.kinds:
        ranges = re.findall(r"(?:\d+|two|three|four) to (?:\d+|four|five|six) bullets", kind.body)
        assert ranges == [], kind.name
    assert "up to 6 bullets, one for each duty the request gives" in LIBRARY.find("general").body  # type: ignore[union-attr]
    # The example: two duties given, two bullets; no requirement given, one placeholder.
    job_ad = example_draft("job ad for a part-time receptionist")
    duties = section_of(job_ad, "### What you'll do")
    assert re.findall(r"^- .*", duties, re.M) == [
        "- Greet patients when they arrive",
        "- Answer the phone",
    ]
    assert re.findall(r"^- .*", section_of(job_ad, "### What we're looking for"), re.M) == [
        "- [Key requirement]"
    ]


def test_a_made_up_reason_gets_a_placeholder_and_deception_still_a_refusal() -> None:
    honesty = section_of(HOUSE, "## Honesty: never invent facts")
    assert "do not invent one, and do not decline either" in honesty
    assert "such as `[reason for the delay]`" in honesty
    assert (
        "Decline only when the draft cannot be honest even with the sender's own reason" in honesty
    )
    safety = section_of(HOUSE, "## Safety and privacy")
    assert "Decline in one short, polite sentence" in safety
    assert (
        "A request to make up a reason or an excuse is not, by itself, a deceptive request"
        in safety
    )
    excuse = example_draft("email to my manager Sam with an excuse")
    assert "[Reason you missed the call.]" in excuse
    assert "can't help" not in excuse  # not declined
    phishing = example_draft("email pretending to be from IT")
    assert phishing.strip().startswith("I can't help") and phishing.count(".") == 1
    email = LIBRARY.find("email")
    assert (
        email is not None
        and "write `[reason]` where it goes, as the house style says" in email.body
    )


def test_the_words_the_house_style_names_are_the_words_it_checks() -> None:
    """The model reads one list, and the style check reads the same one."""
    avoided = {rule.phrase: rule.preferred for rule in LIBRARY.avoid if rule.source == "house"}
    voice = section_of(HOUSE, "## Voice and tone")
    for preferred, phrase in re.findall(r'"([^"]+)" not "([^"]+)"', voice):
        assert avoided.get(phrase) == preferred, phrase
    assert {"touch base", "synergy", "don't hesitate to reach out", "leverage"} <= avoided.keys()
    assert "never use anything on the **Words to avoid** list" in voice


def test_a_company_pack_shares_the_house_styles_breakpoint(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "_company.md").write_text(
        "<!-- notes for admins -->\n# Company pack: Acme\n\n## Words to avoid\n\n- synergy\n"
    )
    library = load_prompts(tmp_path)
    assert library.company == "# Company pack: Acme\n\n## Words to avoid\n\n- synergy"
    for kind in library.kinds:
        for ttl, control in (
            ("5m", {"type": "ephemeral"}),
            ("1h", {"type": "ephemeral", "ttl": "1h"}),
        ):
            blocks = library.system_blocks(kind, ttl)  # type: ignore[arg-type]
            assert [b.get("cache_control") for b in blocks] == [None, control, control]
            shared = blocks[: library.shared_prefix_length()]
            assert sum(len(b["text"]) for b in shared) / 4 >= MIN_CACHEABLE_TOKENS * SAFETY_MARGIN
