"""A student's figures checked against a teacher's key: claims only, on the key's network.

A *key* is an ordinary derivation file (a network's or an expression file): it defines
the numbers, and its ``[claims]`` are the answers the students are asked for. A
*submission* may be

* a claims-only TOML file: a ``[claims]`` table (and optionally ``title`` or ``student``);
* plain text, one figure a line, the claim names of derivation files::

      # Anna, exercise 3
      net_h1 = 0.505
      dE/dw5 = 0.0822

  (blank lines and ``#`` comments are skipped; a name may be quoted; ``−`` counts as ``-``);
* a whole derivation file: accepted when it describes the key's network (every key but
  ``title`` and ``claims`` equal to the key's, numbers compared by value), refused as a
  file for another network otherwise.

:func:`read_claims` reads a submission's figures; :func:`with_claims` returns the key's
derivation with those claims in place of the key's, built through the public parser
(:func:`autograd_tiny.derivation.parse_file`): the key's TOML document without its claims
is written out again with the submission's claims, every float as it was written (so the
checker sees each figure's precision), every string and name TOML-escaped. Nothing in a
file is evaluated. Every problem raises :class:`~autograd_tiny.errors.UsageError` with a
one-line message naming the file, the line or key, and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._numeric import printable, short_repr
from ._toml import Literal, read_toml
from .derivation import Derivation, from_text
from .errors import UsageError

#: Top-level keys a claims-only submission may have besides ``claims``.
SUBMISSION_KEYS = ("title", "student")

#: The largest submission read, in bytes (a hand derivation's figures fit in a few kB).
MAX_SUBMISSION_BYTES = 1_000_000

# A plain-text line: NAME = NUMBER, the name bare (no spaces, quotes, = or #) or quoted.
_PLAIN_LINE = re.compile(
    r"""\s*(?:"(?P<quoted>[^"\\\n]*)"|'(?P<single>[^'\n]*)'|(?P<bare>[^\s="'#]+))"""
    r"""\s*=\s*(?P<number>[^\s#]+)\s*(?:#.*)?\Z""")
_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?(?P<exp>[eE][+-]?\d+)?\Z")


@dataclass(frozen=True)
class Figure:
    """One figure of a submission: the claim's name and its number as written (TOML syntax)."""

    name: str
    written: str


@dataclass
class Submission:
    """A submission's figures.

    Attributes:
        figures: the claims in file order.
        form: ``"text"`` (plain lines), ``"claims"`` (a TOML ``[claims]`` table) or
            ``"derivation"`` (a whole derivation file for the key's network).
        student: the ``student`` key of a TOML submission ('' when it has none).
    """

    figures: list[Figure]
    form: str
    student: str = ""


def _toml(text: str, source: str, parse_float: type[str] = Literal) -> dict[str, Any]:
    """Return the TOML document of ``text``; raise UsageError naming ``source`` when it is not
    TOML, or nests deeper than any submission (see :func:`autograd_tiny._toml.read_toml`)."""
    return read_toml(text, source, parse_float, what="a submission")


def decode(data: bytes, source: str) -> str:
    """Return the UTF-8 text of a file's bytes (a leading byte-order mark dropped).

    Raises:
        UsageError: the bytes are too many, or not UTF-8 text (a PDF, a photo, a Word file).
    """
    if len(data) > MAX_SUBMISSION_BYTES:
        raise UsageError(f"{source}: {len(data)} bytes, more than the {MAX_SUBMISSION_BYTES} a "
                         "submission may have; hand in the figures as text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not UTF-8 text (byte {exc.start}); hand in a TOML file or "
                         "plain text lines such as dE/dw5 = 0.0822") from None
    return text.removeprefix("\ufeff")


def _plain_number(text: str) -> str | None:
    """Return a plain-text number as TOML writes it (``.5`` -> ``0.5``, ``5.`` -> ``5``), or None."""
    m = _NUMBER.match(text.replace("\u2212", "-"))
    if m is None or not (m["int"] or m["frac"]):
        return None
    whole = m["int"].lstrip("0") or "0"
    frac = f".{m['frac']}" if m["frac"] else ""
    return f"{m['sign']}{whole}{frac}{m['exp'] or ''}"


def parse_plain(text: str, source: str = "<text>") -> list[Figure]:
    """Return the figures of plain text, one ``NAME = NUMBER`` a line (``dE/dw5 = 0.0822``).

    Blank lines and ``#`` comments are skipped. The names are not checked here (the key
    knows which exist).

    Raises:
        UsageError: a line is not ``NAME = NUMBER`` or a name is given twice (the message
            names the line).
    """
    figures: list[Figure] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _PLAIN_LINE.match(line)
        written = _plain_number(m["number"]) if m else None
        if m is None or written is None:
            shown = short_repr(stripped, 50)
            raise UsageError(f"{source}: line {number}: expected NAME = NUMBER (like dE/dw5 = 0.0822), "
                             f"got {shown}")
        name = m["quoted"] if m["quoted"] is not None else m["single"] if m["single"] is not None \
            else m["bare"]
        if name in seen:
            raise UsageError(f"{source}: line {number}: {printable(name)} is given twice "
                             f"(first on line {seen[name]}); keep one")
        seen[name] = number
        figures.append(Figure(name, written))
    return figures


def _looks_plain(text: str) -> bool:
    """Return True when every line that is not blank or a comment has the form ``NAME = NUMBER``."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    matches = [_PLAIN_LINE.match(ln) for ln in lines]
    return bool(lines) and all(m is not None and _plain_number(m["number"]) is not None for m in matches)


def read_claims(text: str, source: str = "<text>", key_text: str | None = None) -> Submission:
    """Return the figures of a submission's text (plain lines, a ``[claims]`` table or a whole file).

    Args:
        text: the submission.
        source: its name, for messages.
        key_text: the key's TOML text; a whole derivation file is accepted only when it
            describes the key's network (without a key, any whole file is).

    Raises:
        UsageError: the text is neither form, has no figures, or describes another network
            than the key (the message names what differs).
    """
    if _looks_plain(text):
        figures = parse_plain(text, source)
        return Submission(figures, "text")
    try:
        doc = _toml(text, source)
    except UsageError:
        if any("=" in ln for ln in text.splitlines()) and "[" not in text:
            parse_plain(text, source)  # names the first line that is not NAME = NUMBER
        raise
    if not doc:
        raise UsageError(f"{source}: no figures; write lines such as dE/dw5 = 0.0822, or a [claims] table")
    student = doc.get("student", "")
    if not isinstance(student, str):
        raise UsageError(f"{source}: student must be a string in quotes, such as student = \"Anna\"")
    others = [k for k in doc if k != "claims" and k not in SUBMISSION_KEYS]
    form = "claims"
    if others and "claims" not in doc and all(_is_number(doc[k]) for k in others):
        # top-level figures beside a student's name: the plain form written as TOML
        return Submission([Figure(k, str(doc[k])) for k in others], "claims", student)
    if others:
        if key_text is not None:
            _same_network(doc, _toml(key_text, "the key"), source)
        form = "derivation"
    claims = doc.get("claims")
    if claims is None:
        raise UsageError(f"{source}: no [claims] table; put the figures under [claims], or write "
                         "plain lines such as dE/dw5 = 0.0822")
    if not isinstance(claims, dict):
        raise UsageError(f"{source}: claims must be a table ([claims] with one NAME = NUMBER a line)")
    figures = []
    for name, value in claims.items():
        if not _is_number(value):
            raise UsageError(f"{source}: claims.{_key(name)}: expected a number, got "
                             f"{short_repr(value, 40)}")
        figures.append(Figure(name, str(value)))
    return Submission(figures, form, student)


def _is_number(value: object) -> bool:
    """Return True for a TOML number (an int or a float's text; not a boolean)."""
    return not isinstance(value, bool) and isinstance(value, (int, Literal))


def _same_network(doc: dict[str, Any], key: dict[str, Any], source: str) -> None:
    """Raise UsageError naming the keys in which a whole derivation file differs from the key."""
    def exact(d: dict[str, Any]) -> dict[str, Any]:
        return {k: _decimals(v) for k, v in d.items() if k not in ("title", "claims", "student")}

    mine, theirs = exact(doc), exact(key)
    differ = sorted(k for k in {*mine, *theirs} if mine.get(k) != theirs.get(k))
    if differ:
        shown = ", ".join(printable(k) for k in differ[:6]) + (", ..." if len(differ) > 6 else "")
        raise UsageError(f"{source}: a file for another network than the key's (it differs in "
                         f"{shown}); hand in the figures for the key's network")


def _decimals(value: Any) -> Any:
    """Return ``value`` with every float text as a Decimal (``0.20`` equals ``0.2``), recursively."""
    if isinstance(value, Literal):
        try:
            return Decimal(value.replace("_", ""))
        except ArithmeticError:  # inf, nan
            return str(value)
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


# -- writing the key with the submission's claims ------------------------------------------

def _key(name: str) -> str:
    """Return ``name`` as a TOML key: bare when it can be, else a quoted string."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _string(name)


def _string(text: str) -> str:
    """Return ``text`` as a TOML basic string, every quote, backslash and control character escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any, where: str) -> str:
    """Return a TOML value as inline TOML (floats as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Literal):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v, where)}" for k, v in value.items()) + "}"
    raise UsageError(f"{where}: a derivation file holds numbers, strings, lists and tables, "
                     f"not {type(value).__name__}")


def key_without_claims(key_text: str, source: str = "the key") -> str:
    """Return the key's TOML written out again without its ``claims`` (one ``key = value`` a line).

    Raises:
        UsageError: the key is not TOML.
    """
    doc = _toml(key_text, source)
    return "".join(f"{_key(k)} = {_value(v, source)}\n" for k, v in doc.items() if k != "claims")


def with_claims(key_text: str, figures: list[Figure], source: str = "<text>") -> Derivation:
    """Return the key's derivation with ``figures`` as its claims (the key's own claims dropped).

    Args:
        key_text: the key's TOML text (a valid derivation file).
        figures: the claims to check, in order.
        source: the submission's name: messages about a claim name it.

    Raises:
        UsageError: a claim names nothing in the key's network, or its number is not a
            number (the message names the claim and lists what the key has).
    """
    for f in figures:
        number = f.written.replace("_", "")
        if _plain_number(number) is None and not re.fullmatch(r"[+-]?(inf|nan)", number):
            raise UsageError(f"{source}: {printable(f.name)}: {short_repr(f.written, 30)} is not a number")
    claims = "".join(f"{_string(f.name)} = {f.written}\n" for f in figures)
    text = key_without_claims(key_text) + "\n[claims]\n" + claims
    return from_text(text, source)
