"""Check before you post, the pure part: bot/fact_check.py on the corpus and on its rules."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest

from bot.fact_check import Facts, Finding, check_draft, known_facts
from tests.fact_check_cases import CASES, TODAY, Case


def check(draft: str, *material: str, today: date = TODAY) -> tuple[Finding, ...]:
    return check_draft(draft, known_facts(material, today=today), today=today).findings


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_case(case: Case) -> None:
    checked = check_draft(case.draft, known_facts(case.material, today=TODAY), today=TODAY)
    assert tuple(finding.text for finding in checked.findings) == case.expected
    assert checked.placeholders == case.placeholders


def test_corpus_has_both_kinds() -> None:
    negatives = [case for case in CASES if not case.expected and not case.placeholders]
    positives = [case for case in CASES if case.expected]
    assert len(negatives) >= 10 and len(positives) >= 10


def test_a_finding_carries_its_kind_and_sentence() -> None:
    findings = check(
        "Hi Alex,\n\nThanks for the notes. The launch moves to Thursday 14 March. See you!",
        "email alex about the launch",
    )
    assert findings == (
        Finding("date", "Thursday 14 March", "The launch moves to Thursday 14 March."),
    )


def test_each_kind_is_named() -> None:
    draft = (
        "It costs $40 for 3 seats, 10% off, on 5 May at 9am. Write to a@b.co, call "
        "+1 415 555 0100, see https://b.co/x. Ask Priya."
    )
    kinds = [finding.kind for finding in check(draft, "offer")]
    assert kinds == [
        "amount",
        "number",
        "percent",
        "date",
        "time",
        "email",
        "phone",
        "url",
        "name",
    ]


def test_a_weekday_that_fits_the_date_is_not_flagged() -> None:
    # 14 March 2026 is a Saturday; the request gives the date, the draft adds the weekday.
    assert check("See you on Saturday, 14 March.", "meet on 14 march") == ()
    assert [f.text for f in check("See you on Friday, 14 March.", "meet on 14 march")] == [
        "Friday, 14 March"
    ]


def test_a_weekday_in_the_request_makes_it_known() -> None:
    assert check("Shall we say Thursday?", "ask if thursday works") == ()
    assert [f.text for f in check("Shall we say Friday?", "ask if thursday works")] == ["Friday"]


def test_numbers_and_names_in_code_are_not_checked() -> None:
    draft = "Set `RETRIES=5` and run:\n\n```\nexport HOST=Orion PORT=8443\n```\nDone."
    assert check(draft, "explain the settings") == ()


def test_a_code_block_never_closed_is_code_to_the_end() -> None:
    assert check("Run:\n```\nPORT=8443 Orion\n", "explain") == ()


def test_sentence_initial_words_are_not_names() -> None:
    assert check("Unfortunately the room is taken.", "say the room is taken") == ()
    assert check("See you there.", "say see you") == ()
    assert [f.text for f in check("Marta Oyelaran will chair.", "who chairs")] == ["Oyelaran"]
    assert [f.text for f in check("It is Marta Oyelaran.", "who chairs")] == ["Marta Oyelaran"]


def test_a_finding_is_listed_once() -> None:
    findings = check("Globex said yes. We thank Globex, and Globex thanks us.", "reply")
    assert [f.text for f in findings] == ["Globex"]


def test_a_decimal_is_never_read_as_a_year() -> None:
    facts = known_facts(["version 3.2, shipped 2026"])  # "3.2" once crashed the check
    assert "year:2026" in facts.keys and not any(k.startswith("year:3") for k in facts.keys)
    assert check("It shipped in 2026 as version 3.2.", "version 3.2, shipped 2026") == ()


def test_a_sentence_ends_before_the_code_after_it() -> None:
    [finding] = check("Restart it on Friday.\n\n```\nrestart --now\n```", "restart it")
    assert finding.sentence == "Restart it on Friday."


def test_a_long_sentence_is_trimmed_around_the_finding() -> None:
    filler = "and then the team kept talking about the plan " * 20
    finding = check(f"We met {filler} with Orion {filler}.", "notes")[0]
    assert finding.text == "Orion"
    assert "Orion" in finding.sentence
    assert len(finding.sentence) <= 202 and finding.sentence.startswith("…")


def test_material_it_cannot_read_reports_only_placeholders() -> None:
    facts = Facts(known_facts(["summarize the pdf"]).keys, complete=False)
    checked = check_draft("Revenue was $4.2m in Q3. Signed, [Your name]", facts)
    assert checked.findings == ()
    assert checked.placeholders == ("[Your name]",)


def test_markdown_links_and_checkboxes_are_not_placeholders() -> None:
    checked = check_draft("- [x] done\n- [see the plan](https://a.io/p)", known_facts(["a.io/p"]))
    assert checked.placeholders == ()


def test_a_2000_word_draft_is_checked_quickly() -> None:
    sentence = (
        "On 14 March Alex from Globex said the $1,200 budget grew 5% and asked for "
        "sales@example.com to call 020 7946 0958 at 3pm about https://example.com/plan. "
    )
    draft = sentence * (2_000 // len(sentence.split()))
    facts = known_facts(["email alex"])
    check_draft(draft, facts)  # the patterns are compiled at import; this warms the caches
    best = min(_timed(lambda: check_draft(draft, facts)) for _ in range(5))
    # The target is 20 ms (bench/fact_check.py measures about 6); a shared CI machine
    # gets headroom, a slip into quadratic time would not fit in it.
    assert best < 0.1


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
