"""The check-before-you-post corpus: drafts with the material they were written from, and
what a careful reader would flag (`expected`: the exact texts) and the placeholders left.

Cases with `expected=()` are true negatives: the draft only repeats the material's facts,
often in another form, and must raise no warning. tests/test_fact_check.py asserts each
case; bench/fact_check.py prints precision and recall over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Every case is checked as of this day, so weekdays are the same whenever the tests run.
TODAY = date(2026, 3, 2)


@dataclass(frozen=True)
class Case:
    name: str
    material: tuple[str, ...]
    draft: str
    expected: tuple[str, ...] = ()  # finding texts, in order
    placeholders: tuple[str, ...] = ()


CASES: tuple[Case, ...] = (
    # ---------------------------------------------------------------- true negatives
    Case(
        "greeting names the person in the request",
        ("email to alex asking to move friday's meeting to monday",),
        "Hi Alex,\n\nCould we move Friday's meeting to Monday? Let me know what suits you.\n\n"
        "Thanks!",
    ),
    Case(
        "dates in other forms",
        ("announce the launch on 14 March 2026 and the review on 2026-04-02",),
        "Team,\n\nThe launch is on March 14th, 2026. We review it on 2 April.\n\n"
        "Saturday 14 March is the big day.",
    ),
    Case(
        "amounts in other forms",
        ("tell finance the budget is $1,200 and the deposit $3.5m",),
        "Hi Finance,\n\nThe budget is 1200 dollars (roughly $1.2k), and the deposit is $3,500,000.",
    ),
    Case(
        "percent words",
        ("sales grew 5% and churn fell by 1.5 percent",),
        "Sales grew 5 percent this quarter, while churn fell by 1.5%.",
    ),
    Case(
        "phone, e-mail and links in other forms",
        ("call +44 20 7946 0958 or write to Sam.Lee@Example.com; see https://Example.com/Plan/",),
        "Reach us on 020 7946 0958 or at sam.lee@example.com. The plan is at "
        "example.com/plan and https://example.com/plan.",
    ),
    Case(
        "times in other forms",
        ("standup moves to 3pm, the demo is at 09:30",),
        "From today the standup is at 15:00 and the demo at 9:30 am.",
    ),
    Case(
        "number words in the request",
        ("thank the three new hires joining on the first of june",),
        "Welcome to our 3 new hires! We're glad you're here.",
    ),
    Case(
        "a summary repeats its thread",
        (
            "summarize this thread",
            "\n\nThread:\nPriya Natarajan: the Globex renewal is due 30 June, $48,000\n"
            "Tom Okafor: legal wants the SLA at 99.9% uptime\n"
            "Priya Natarajan: ok, call on Tuesday at 2pm",
        ),
        "**Summary**\n\n- The Globex renewal ($48,000) is due on June 30.\n"
        "- Legal, via Tom Okafor, wants a 99.9 percent uptime SLA.\n"
        "- Priya Natarajan set a call for Tuesday at 2 pm.",
    ),
    Case(
        "code is not checked",
        ("explain how to restart the worker",),
        "Run this:\n\n```\nsystemctl restart worker@42 --timeout 300\n```\n\n"
        "Then check `journalctl -n 50`.",
    ),
    Case(
        "headings and sign-offs are not names",
        ("status update on the migration for the team",),
        "## Status Update\n\n**Next Steps:** finish the migration.\n\nBest regards,\nThe Team",
    ),
    Case(
        "a numbered list",
        ("list the two steps to reset a password",),
        "1. Open settings.\n2. Choose reset password.",
    ),
    Case(
        "Slack mentions",
        ("thank <@U0123ABCD> for the release",),
        "Huge thanks to <@U0123ABCD> for getting the release out!",
    ),
    Case(
        "names from pasted text",
        ("reply to this: 'Hi, this is Marguerite from Initech. Can we meet on 12/05?'",),
        "Hi Marguerite,\n\nThanks for reaching out from Initech. Yes, 12/05 works for me.",
    ),
    Case(
        "possessives and hyphenated names",
        ("congratulate jean-luc and ana on ana's promotion",),
        "Congratulations to Jean-Luc, and to Ana on Ana's promotion!",
    ),
    Case(
        "decimals and versions",
        ("release notes for version 3.2: load time down from 1.8 to 1.2 seconds",),
        "Version 3.2 is out! Pages now load in 1.2 seconds instead of 1.8.",
    ),
    # ---------------------------------------------------------------- true positives
    Case(
        "an invented date with a weekday that does not fit",
        ("email to alex asking to move the meeting",),
        "Hi Alex,\n\nCould we move our meeting to Thursday 14 March? Let me know.",
        expected=("Thursday 14 March",),
    ),
    Case(
        "a known date with a wrong weekday",
        ("remind everyone the offsite is on 14 March",),
        "Reminder: the offsite is on Thursday 14 March.",
        expected=("Thursday 14 March",),
    ),
    Case(
        "an invented number and amount",
        ("ask the vendor for a quote on the laptops",),
        "Hello,\n\nWe would like a quote for 25 laptops, ideally under $30,000 in total.",
        expected=("25", "$30,000"),
    ),
    Case(
        "an amount in another currency",
        ("the budget is $1,200",),
        "The budget is €1,200.",
        expected=("€1,200",),
    ),
    Case(
        "an invented name and company",
        ("intro email for the new designer",),
        "Hi all,\n\nPlease welcome Dana Whitfield, who joins us from Globex as a designer.",
        expected=("Dana Whitfield", "Globex"),
    ),
    Case(
        "invented contacts and link",
        ("tell customers support hours are changing",),
        "Our support hours are changing. Questions? Call 555-123-4567, write to "
        "help@acme.io or see https://acme.io/support.",
        expected=("555-123-4567", "help@acme.io", "https://acme.io/support"),
    ),
    Case(
        "an invented percent and time",
        ("announce the new pricing to the team",),
        "The new pricing starts next week: prices rise by 8% and the briefing is at 4:30pm.",
        expected=("8%", "4:30pm"),
    ),
    Case(
        "a changed year",
        ("the contract ends on 31 December 2026",),
        "As a reminder, the contract ends on 31 December 2027.",
        expected=("31 December 2027",),
    ),
    Case(
        "an invented month and weekday",
        ("ask the team when they can do the training",),
        "Could we do the training in April, maybe on a Wednesday?",
        expected=("April", "Wednesday"),
    ),
    Case(
        "a summary adds a figure the thread lacks",
        (
            "summarize this thread",
            "\n\nThread:\nPriya Natarajan: the Globex renewal is due 30 June\n",
        ),
        "- The Globex renewal, worth $48,000, is due on 30 June.\n- Tom Okafor will own it.",
        expected=("$48,000", "Okafor"),
    ),
    Case(
        "placeholders left in",
        ("invite the team to the offsite",),
        "Hi team,\n\nJoin us for the offsite on [date] at [venue]. RSVP by {deadline}; "
        "agenda TBD.\n\nBest,\n[Your name]",
        placeholders=("[date]", "[venue]", "{deadline}", "TBD", "[Your name]"),
    ),
    Case(
        "angle-bracket and ellipsis placeholders",
        ("thank the speaker",),
        "Thank you for your talk on <insert topic>. […]",
        placeholders=("<insert topic>", "[…]"),
    ),
    Case(
        "an address in angle brackets from the request",
        ("questions go to Jane Doe <jane@acme.com>",),
        "Hi all,\n\nQuestions about the move go to Jane Doe <jane@acme.com>.",
    ),
    Case(
        "an address in angle brackets the request lacks",
        ("tell people where to send questions",),
        "Please send your questions to Jane Doe <jane@acme.com>.",
        expected=("Jane Doe", "jane@acme.com"),
    ),
    Case(
        "a Markdown rule is not a blank to fill in",
        ("write the agenda and a line to sign",),
        "Agenda: the plan, then questions.\n\n___\n\nSigned: ________",
        placeholders=("________",),
    ),
    Case(
        "keys and types in angle brackets",
        ("tell them to press enter to save and that names come back as a vec of string",),
        "Press <Enter> to save. The names come back as a Vec<String>.",
    ),
    Case(
        "single-word placeholders in angle brackets",
        ("thank the customer for the order",),
        "Dear <name>,\n\nThank you for your order from <company>.",
        placeholders=("<name>", "<company>"),
    ),
    Case(
        "a bracketed text the request itself contains",
        ("invite the team to the offsite at [venue], I will fill that in",),
        "Hi team,\n\nJoin us for the offsite at [venue].",
    ),
    Case(
        "a name with its accent dropped",
        ("thank Zoë for the launch notes",),
        "Hi Zoe,\n\nThanks for the launch notes!",
    ),
    Case(
        "a name with an accent its address lacks",
        ("ask jose.garcia@acme.com for the figures",),
        "Hi José,\n\nCould you send me the figures? Thanks, and say hi to García's team.",
    ),
    Case(
        "an accented name still differs from another name",
        ("thank Zoë for the launch notes",),
        "Hi Zoe,\n\nThanks for the notes, and Renée will follow up.",
        expected=("Renée",),
    ),
    Case(
        "a flag in prose beside a code block",
        ("explain how to restart the worker",),
        "Restart it before Friday.\n\n```\nsystemctl restart worker --after Friday\n```",
        expected=("Friday",),
    ),
    Case(
        "a changed phone number",
        ("our number is 020 7946 0958",),
        "Call us on 020 7946 0959.",
        expected=("020 7946 0959",),
    ),
)
