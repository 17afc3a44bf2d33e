"""The class report of ``autograd-tiny grade``: one self-contained HTML file.

:func:`grade_report` returns a page with the class's misconceptions as a bar chart (inline
SVG: one bar per misconception, its length the number of students whose figures show it),
an overview table (one row per submission, linked to its section) and each student's
table of verdicts. It needs no network, no script and no server. Every string that comes
from a file (a file or student name, a claim, a written number, a hint, a reason) is
escaped with :func:`html.escape` where it is put in, in the HTML and in the SVG alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..display import VERDICT_COLOURS
from ..grading import Grade, histogram, misconception, shown

#: The bar chart's geometry, in pixels: label column, longest bar, one bar's height and gap.
LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT, BAR_GAP = 360, 380, 22, 8

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1f2328; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.5em 0 1em; }
th, td { text-align: left; padding: 3px 12px 3px 0; vertical-align: top; border-bottom: 1px solid #eee; }
.reason { color: #cf222e; }
.muted { color: #59636e; }
section { margin-top: 2em; }
"""


def bar_chart(counts: Sequence[tuple[str, int]], students: int) -> str:
    """Return an inline SVG bar chart of ``(label, count)`` pairs out of ``students`` students.

    Each bar is a ``<rect class="bar">`` whose ``data-count`` is its count; the labels are
    escaped. With no pairs, a one-line SVG saying that no slip was found.
    """
    if not counts:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="30" role="img" '
                'aria-label="no misconceptions"><text x="0" y="20" font-size="14">'
                'No slips: every graded figure is ok or follows from rounding.</text></svg>')
    top = max(c for _, c in counts)
    height = len(counts) * (BAR_HEIGHT + BAR_GAP) + 30
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="students per misconception" font-family="system-ui, sans-serif" font-size="13">']
    for i, (label, count) in enumerate(counts):
        y = i * (BAR_HEIGHT + BAR_GAP)
        length = max(2, round(BAR_WIDTH * count / top))
        shown_label = label if len(label) <= 55 else label[:52] + "..."
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(shown_label)}</text>"
            f'<rect class="bar" data-count="{count}" x="{LABEL_WIDTH}" y="{y}" width="{length}" '
            f'height="{BAR_HEIGHT}" fill="#cf222e" fill-opacity="0.75"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}">{count}</text>')
    axis_y = len(counts) * (BAR_HEIGHT + BAR_GAP) + 16
    parts.append(f'<text x="{LABEL_WIDTH}" y="{axis_y}" fill="#59636e">students, of {students} '
                 "graded</text></svg>")
    return "".join(parts)


def _verdict(verdict: str) -> str:
    """Return the verdict word in its colour (HTML)."""
    colour = VERDICT_COLOURS.get(verdict, "inherit")
    return f'<span style="color: {colour}; font-weight: bold">{escape(verdict)}</span>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return an HTML table; the cells are HTML already escaped."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _overview(grades: Sequence[Grade]) -> str:
    """Return the overview table: one row per submission, linked to its section."""
    rows = []
    for i, g in enumerate(grades, start=1):
        link = f'<a href="#s{i}">{escape(g.student)}</a>'
        if not g.graded:
            reason = f'<span class="reason">{escape(g.reason)}</span>'
            rows.append([link, escape(g.file), "", "", "", "", reason])
            continue
        slip = g.first_slip
        first = (f"{escape(slip.claim)} = {escape(slip.written)}: {escape(slip.hint or misconception(None))}"
                 if slip else "")
        rows.append([link, escape(g.file), str(g.count("ok")), str(g.count("follows")),
                     str(g.count("wrong")), str(len(g.missing)), first])
    return _table(["student", "file", "ok", "follows", "wrong", "missing", "first slip"], rows)


def _student(i: int, g: Grade) -> str:
    """Return submission ``i``'s section: its table of verdicts, or why it was not graded."""
    head = f'<section id="s{i}"><h3>{escape(g.student)} <span class="muted">({escape(g.file)})</span></h3>'
    if not g.graded:
        return head + f'<p class="reason">Not graded: {escape(g.reason)}</p></section>'
    rows = [[escape(r.claim), escape(r.written), escape(shown(r.computed, r.written)), _verdict(r.verdict),
             escape(r.hint or "")] for r in g.results]
    missing = (f"<p>Missing answers: {escape(', '.join(g.missing))}</p>" if g.missing else "")
    return (head + _table(["claim", "written", "computed", "verdict", "hint"], rows)
            + f"<p>{escape(g.summary)}</p>{missing}</section>")


def grade_report(grades: Sequence[Grade], key_name: str = "") -> str:
    """Return the class report as one self-contained HTML document.

    Args:
        grades: the class's grades (:func:`autograd_tiny.grading.grade_folder`).
        key_name: the key's name, shown in the title (escaped).
    """
    graded = [g for g in grades if g.graded]
    perfect = sum(1 for g in graded if g.results and all(r.verdict == "ok" for r in g.results)
                  and not g.missing)
    facts = (f"{len(grades)} files: {len(graded)} graded ({perfect} with every answer ok), "
             f"{len(grades) - len(graded)} not graded.")
    title = f"Grades for {key_name}" if key_name else "Grades"
    sections = "".join(_student(i, g) for i, g in enumerate(grades, start=1))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(facts)}</p>"
        "<h2>Misconceptions across the class</h2>"
        '<p class="muted">Students whose wrong figures show each misconception '
        "(a student counts once per slip).</p>"
        f'<figure id="histogram">{bar_chart(histogram(grades), len(graded))}</figure>'
        f"<h2>Students</h2>{_overview(grades)}{sections}</body></html>\n"
    )
