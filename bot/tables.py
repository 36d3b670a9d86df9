"""Tables for the terminal: the default view fits the width, cutting long names with "…"
rather than wrapping every line; `wide` shows every column at its natural width."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_WIDTH = 100  # the default views are chosen to fit this many columns
NARROWEST_TEXT = 12  # a text column is never cut shorter than this
GAP = 2  # spaces between columns (tabulate's "simple" format)


@dataclass(frozen=True)
class Column:
    heading: str
    numeric: bool = True  # right-aligned, never cut
    wide_only: bool = False  # shown only with `wide`


def terminal_width() -> int:
    """The terminal's width when printing to one; otherwise (a pipe, a file) the default."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def render_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    wide: bool = False,
    width: int | None = None,
    total: Sequence[str] | None = None,
) -> str:
    """`rows`, and a `total` row below a rule, under `columns`, as plain text."""
    # Slow to import (it reads package metadata): tables only.
    from tabulate import MIN_PADDING, tabulate

    shown = [index for index, column in enumerate(columns) if wide or not column.wide_only]
    body = [[row[index] for index in shown] for row in rows]
    if total is not None:
        body.append([total[index] for index in shown])
    headers = [columns[index].heading for index in shown]
    if not wide:
        fitted = [columns[index] for index in shown]
        _fit(body, headers, fitted, width or terminal_width(), MIN_PADDING)
    table = tabulate(
        body,
        headers=headers,
        tablefmt="simple",
        disable_numparse=True,
        colalign=["right" if columns[index].numeric else "left" for index in shown],
    )
    if total is None:
        return table
    lines = table.splitlines()
    return "\n".join([*lines[:-1], lines[1], lines[-1]])  # the header's rule above the total


def _fit(
    body: list[list[str]], headers: list[str], columns: list[Column], width: int, padding: int
) -> None:
    """Cut the text columns' cells (in place) so that the table fits `width` (tabulate pads
    headings with `padding` spaces)."""
    widths = [
        max([len(headers[i]) + padding, *(len(row[i]) for row in body)])
        for i in range(len(columns))
    ]
    text = [i for i, column in enumerate(columns) if not column.numeric]
    spare = width - sum(widths) - GAP * (len(columns) - 1)
    for i in text:
        if spare >= 0:
            return
        limit = max(NARROWEST_TEXT, len(headers[i]) + padding, widths[i] + spare)
        spare += widths[i] - limit
        for row in body:
            if len(row[i]) > limit:
                row[i] = row[i][: limit - 1] + "…"
