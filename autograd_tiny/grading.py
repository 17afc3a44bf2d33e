"""Grading a class: every submission in a folder checked against a teacher's key.

:func:`load_key` reads the key (a derivation file whose claims are the answers: every one
must be ``ok``, so a key with a slip is refused), :func:`grade_file` checks one submission
(:mod:`autograd_tiny.submission` reads its figures) and :func:`grade_folder` a folder of
them. A file that cannot be graded (not text, not a derivation or figures, a file for
another network, a claim the key's network does not have) becomes a row with the reason,
never an exception: one bad file does not stop the class's grading.

:func:`misconception` names the slip a hint describes (the misconceptions, in a
teacher's words), :func:`histogram` counts the students per misconception, and
:func:`write_csv` writes one row per student, every cell guarded against spreadsheet
formula injection. ``autograd-tiny grade`` is the command-line form; the HTML report is
:func:`autograd_tiny.html.report.grade_report`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._numeric import printable
from .derivation import ClaimResult, Derivation, Quantity, load_derivation, summary
from .errors import UsageError
from .submission import decode, read_claims, with_claims

#: What a wrong claim without a hint counts as in the histogram.
UNEXPLAINED = "a slip no misconception reproduces"

_NUMBERS = re.compile(r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def shown(computed: float, written: str) -> str:
    """Return ``computed`` with two more significant digits than the figure ``written`` has
    (as the checker's table shows it: :func:`autograd_tiny.derivation.checker.computed_text`)."""
    from .derivation.checker import computed_text

    return computed_text(computed, written)


def misconception(result: ClaimResult | None) -> str:
    """Return the name of the misconception of a wrong claim's hint (``"the sign flipped"``,
    ``"a path of the backward pass forgotten"``: the checker's
    :attr:`~autograd_tiny.derivation.checker.ClaimResult.misconception`); a hint that names none
    is returned with its numbers replaced by ``#``; no claim or no hint gives :data:`UNEXPLAINED`.
    """
    if result is None or not result.hint:
        return UNEXPLAINED
    if result.misconception:
        return result.misconception
    return _NUMBERS.sub("#", result.hint.removesuffix(" (recomputed from the written figures)"))


@dataclass
class Key:
    """A teacher's key: the derivation file whose numbers and claims the submissions are checked on.

    Attributes:
        source: the key's file name (for messages).
        text: its TOML text.
        derivation: the key as a :class:`~autograd_tiny.derivation.Derivation`.
        answers: the claim names the key asks for, in file order.
        quantities: what each answer is about (a submission may name it another way,
            ``w1@1`` for ``w1+``).
    """

    source: str
    text: str
    derivation: Derivation
    answers: list[str]
    quantities: list[Quantity]


def load_key(path: str | os.PathLike[str]) -> Key:
    """Return the key of the derivation file at ``path``.

    Raises:
        UsageError: the file cannot be read, is not a valid derivation file, has no claims
            (the answers), or one of its claims is not ``ok`` (a key with a slip would mark
            the right answer wrong; the message names the claim and the computed value).
    """
    derivation = load_derivation(Path(path))
    source = str(path)
    text = decode(Path(path).read_bytes(), source)
    results = derivation.check()
    if not results:
        raise UsageError(f"{source}: the key has no [claims]; list the answers the students must give "
                         "(each figure computed from the key's numbers)")
    bad = [r for r in results if r.verdict != "ok"]
    if bad:
        r = bad[0]
        raise UsageError(f"{source}: the key's answer {printable(r.claim)} = {r.written} is not what its "
                         f"network gives ({shown(r.computed, r.written)}); correct the key")
    return Key(source, text, derivation, [r.claim for r in results], [r.quantity for r in results])


@dataclass
class Grade:
    """One student's grade: the verdicts on their figures, or why the file could not be graded.

    Attributes:
        file: the submission's path relative to the folder graded.
        student: the submission's ``student`` key, else the file's name without its suffix.
        results: the checker's verdicts in file order (empty when the file could not be graded).
        missing: the key's answers the submission does not give.
        reason: why the file could not be graded ('' when it was).
    """

    file: str
    student: str
    results: list[ClaimResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def graded(self) -> bool:
        """Return True when the file was graded (it has verdicts, perhaps none of them ok)."""
        return not self.reason

    def count(self, verdict: str) -> int:
        """Return how many claims got ``verdict`` (``"ok"``, ``"follows"`` or ``"wrong"``)."""
        return sum(r.verdict == verdict for r in self.results)

    @property
    def first_slip(self) -> ClaimResult | None:
        """Return the first slip: the wrong claim computed first (the checker's summary's), or None."""
        wrong = [(r.order, i) for i, r in enumerate(self.results) if r.verdict == "wrong"]
        return self.results[min(wrong)[1]] if wrong else None

    @property
    def misconceptions(self) -> list[str]:
        """Return the misconceptions of the wrong claims, each once, the first slip's first."""
        first = self.first_slip
        ordered = ([first] if first else []) + [r for r in self.results if r.verdict == "wrong"]
        return list(dict.fromkeys(misconception(r) for r in ordered))

    @property
    def summary(self) -> str:
        """Return the checker's one-line summary, or the reason the file was not graded."""
        return summary(self.results) if self.graded else self.reason


def grade_text(key: Key, text: str, source: str, student: str = "") -> Grade:
    """Return the grade of a submission's text against ``key`` (a :class:`Grade` with a reason
    when it cannot be graded; never raises for a bad submission)."""
    grade = Grade(source, student or Path(source).stem)
    try:
        submission = read_claims(text, source, key.text)
        if not submission.figures:
            raise UsageError(f"{source}: no figures; write lines such as dE/dw5 = 0.0822")
        grade.student = submission.student or grade.student
        derivation = with_claims(key.text, submission.figures, source)
        grade.results = list(derivation.check())
    except UsageError as exc:
        grade.reason = printable(str(exc))
        return grade
    except RecursionError:
        grade.reason = f"{source}: too deeply nested to read"
        return grade
    except Exception as exc:  # a fault of the checker on one file must not stop the class's grading
        grade.reason = printable(f"{source}: the checker failed on this file ({type(exc).__name__}: {exc}); "
                                 "check it alone with autograd-tiny check and report the problem")
        return grade
    given = {r.quantity for r in grade.results}
    grade.missing = [name for q, name in zip(key.quantities, key.answers) if q not in given]
    return grade


def grade_file(key: Key, path: Path, relative_to: Path | None = None) -> Grade:
    """Return the grade of the submission at ``path`` (with a reason when it cannot be read or graded)."""
    name = str(path.relative_to(relative_to)) if relative_to is not None else str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Grade(name, path.stem, reason=f"{name}: cannot read it: {exc.strerror or exc}")
    try:
        text = decode(data, name)
    except UsageError as exc:
        return Grade(name, path.stem, reason=printable(str(exc)))
    return grade_text(key, text, name)


def submissions(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the files of ``folder`` and its sub-folders, sorted, hidden ones (``.name``) left out.

    Raises:
        UsageError: ``folder`` is not a directory.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"{folder}: not a directory; give the folder that holds the submissions")
    found = [p for p in root.rglob("*")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def grade_folder(key: Key, folder: str | os.PathLike[str], progress: bool = False) -> list[Grade]:
    """Return the grade of every submission in ``folder`` (see :func:`submissions`), in file order.

    ``progress`` shows a bar on stderr (tqdm) while the files are checked.

    Raises:
        UsageError: ``folder`` is not a directory.
    """
    files = submissions(folder)
    items: Iterable[Path] = files
    if progress:
        from tqdm import tqdm

        items = tqdm(files, desc="grading", unit="file", leave=False)
    return [grade_file(key, path, Path(folder)) for path in items]


def histogram(grades: Sequence[Grade]) -> list[tuple[str, int]]:
    """Return ``(misconception, students)`` for every misconception in the class, most students first.

    A student counts once per misconception, however many claims show it; files that were
    not graded do not count.
    """
    counts: Counter[str] = Counter()
    for g in grades:
        counts.update(g.misconceptions)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# -- the CSV ----------------------------------------------------------------------------------------

#: The CSV's columns.
CSV_COLUMNS = ("file", "student", "graded", "claims", "ok", "follows", "wrong", "missing",
               "first_slip", "written", "computed", "hint", "misconception", "missing_claims", "reason")

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


def csv_cell(text: str) -> str:
    """Return ``text`` safe for a spreadsheet cell: on one line, and a text starting with
    ``= + - @`` (or a tab or carriage return) that is not a plain number prefixed with ``'``
    so that no spreadsheet reads it as a formula."""
    text = printable(text)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_row(grade: Grade) -> list[str]:
    """Return a student's CSV row (:data:`CSV_COLUMNS`), every cell made safe by :func:`csv_cell`."""
    slip = grade.first_slip
    cells = [grade.file, grade.student, "yes" if grade.graded else "no"]
    if grade.graded:
        cells += [str(len(grade.results)), str(grade.count("ok")), str(grade.count("follows")),
                  str(grade.count("wrong")), str(len(grade.missing))]
    else:
        cells += [""] * 5
    if slip is not None:
        cells += [slip.claim, slip.written, shown(slip.computed, slip.written), slip.hint or "",
                  misconception(slip)]
    else:
        cells += [""] * 5
    cells += [" ".join(grade.missing), grade.reason]
    return [csv_cell(c) for c in cells]


def csv_text(grades: Sequence[Grade]) -> str:
    """Return the CSV of a class: a header (:data:`CSV_COLUMNS`) and one row per submission."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(g) for g in grades)
    return out.getvalue()
