"""Reading TOML that a user wrote, safely: bounded, never evaluated, with one-line errors.

Derivation files and students' submissions are TOML. :func:`read_toml` parses them with
:mod:`tomllib` (which evaluates nothing) after refusing what would make the parser recurse
deeply or take quadratic time (arrays and inline tables nested, or dotted keys of, more
than :data:`MAX_TOML_DEPTH` levels), and keeps each float as the text it was written with,
so that a figure's precision is known. Its errors say where the file went wrong and, for
the common slips (a key written twice, a claim name such as ``dE/dw5`` without quotes),
what to write instead.
"""

from __future__ import annotations

import math
import re
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

from ._files import MAX_FILE_BYTES
from ._numeric import printable, short_repr
from .errors import UsageError


class Literal(str):
    """The text of a TOML float exactly as written (``tomllib`` gives it via ``parse_float``)."""


def _duplicate_key(text: str) -> str | None:
    """Return 'key' and lines of the first key written twice in one table, or None.

    ``tomllib`` reports a repeated key only as "Cannot overwrite a value"; this finds
    which key it was (for plain ``key = value`` lines).
    """
    seen: dict[tuple[str, str], int] = {}
    table = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?$", stripped)
        if header and not stripped.startswith("[["):
            table = header.group(1)
            continue
        m = re.match(r'("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=', stripped)
        if m:
            key = m.group(1).strip("\"'")
            first = seen.setdefault((table, key), lineno)
            if first != lineno:
                where = f"[{table}] " if table else ""
                return f"{where}{key!r} is written twice (lines {first} and {lineno}); keep one"
    return None


def _unquoted_key(text: str, message: str) -> str | None:
    """Return advice when the line TOML stopped at starts with a bare key holding / + or @.

    Claim names such as ``dE/dw5``, ``w1+`` and ``E@100`` are no bare TOML keys; they
    need quotes, which is easy to forget.
    """
    at = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if at is None or not 1 <= int(at.group(1)) <= len(lines):
        return None
    key = re.match(r"\s*([A-Za-z0-9_-]*[/+@][^=\s]*)\s*=", lines[int(at.group(1)) - 1])
    if key is None:
        return None
    name = key.group(1)
    return (f"line {at.group(1)}: the key {name} needs quotes, since / + and @ cannot be in a "
            f'bare TOML key: write "{name}" = ...')


#: The deepest nesting of arrays and inline tables a derivation file may have, and the most
#: parts a dotted key may have (``layers`` nests 2 deep; the TOML parser recurses once per
#: level, failing near a thousand, and takes time quadratic in a key's parts).
MAX_TOML_DEPTH = 32

_KEY_PART = r"""(?>[A-Za-z0-9_-]+|"(?>[^"\\\n]+|\\.)*"|'[^'\n]*')"""
# A dotted key of more than MAX_TOML_DEPTH parts, where a key starts: at the start of a line, after
# a table's "[" or an inline table's "{" or ",". Only lines with that many dots are searched.
_LONG_KEY = re.compile(rf"(?:^|[\[{{,])[ \t]*{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_TOML_DEPTH},}}",
                       re.MULTILINE)
# Where the nesting scan stops: the start of a string or comment, a bracket or a brace.
_NEST_TOKEN = re.compile(r'"""|' + r"'''" + r"""|["'#\[\]{}]""")
# Where each kind of string (or a comment) ends, from just after its opening.
_NEST_END = {
    '"""': re.compile(r'(?>[^"\\]+|\\.|"(?!""))*"""', re.DOTALL),
    "'''": re.compile(r"(?>[^']+|'(?!''))*'''", re.DOTALL),
    '"': re.compile(r'(?>[^"\\\n]+|\\.)*"'),
    "'": re.compile(r"[^'\n]*'"),
    "#": re.compile(r"[^\n]*"),
}


def _too_deep(text: str, what: str = "a derivation file") -> str | None:
    """Return what nests too deep for the TOML parser, as ``line N: ...``: arrays and inline
    tables nested more than :data:`MAX_TOML_DEPTH` deep, or a dotted key of more parts than
    that; None when nothing does.

    Strings and comments are skipped; the scan takes linear time, before parsing.
    """
    at = 0
    for line, line_text in enumerate(text.split("\n") if text.count(".") > MAX_TOML_DEPTH else (), 1):
        if line_text.count(".") > MAX_TOML_DEPTH and _LONG_KEY.search(line_text):
            return f"line {line}: a dotted key of more than {MAX_TOML_DEPTH} parts; {what}'s keys have 1 or 2"
    depth = 0
    while True:
        token = _NEST_TOKEN.search(text, at)
        if token is None:
            return None
        kind = token.group()
        if kind in ("[", "{"):
            depth += 1
            if depth > MAX_TOML_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                return (f"line {line}: arrays or inline tables nested more than {MAX_TOML_DEPTH} "
                        f"deep; {what} needs 2 or 3 levels")
            at = token.end()
        elif kind in ("]", "}"):
            depth = max(depth - 1, 0)
            at = token.end()
        else:
            end = _NEST_END[kind].match(text, token.end())
            if end is None:  # an unclosed string: the parser says where
                return None
            at = end.end()


def read_toml(text: str, source: str, parse_float: type[str] = Literal,
              what: str = "a derivation file") -> dict[str, Any]:
    """Return the TOML document of ``text``, with floats as ``parse_float`` strings (their written
    digits).

    Raises:
        UsageError: the text is too long, nests too deep, or is not valid TOML (the message
            names ``source`` and says where).
    """
    if len(text) > MAX_FILE_BYTES:
        raise UsageError(f"{source}: the text is longer than {MAX_FILE_BYTES:,} characters "
                         f"({len(text):,}); {what} is a few kilobytes of TOML")
    too_deep = _too_deep(text, what)
    if too_deep is not None:
        raise UsageError(f"{source}: {too_deep}")
    try:
        return tomllib.loads(text, parse_float=parse_float)
    except tomllib.TOMLDecodeError as exc:
        duplicate = _duplicate_key(text) if "overwrite" in str(exc) else None
        unquoted = _unquoted_key(text, str(exc))
        raise UsageError(f"{source}: invalid TOML: {duplicate or unquoted or exc}") from None
    except ValueError:  # int() refuses whole numbers of more than 4300 digits
        raise UsageError(f"{source}: a whole number in the file has more than 4300 digits; "
                         "no float holds it, write a smaller number") from None


# -- the values --------------------------------------------------------------------------------

def fail(source: str, key: str, problem: str) -> UsageError:
    """Return the error for a problem at ``key`` (a dotted TOML path such as ``weights.w1``)."""
    if len(key) > 80:  # a key is the user's text: keep the one-line message short
        key = f"{key[:70]}... ({len(key)} characters)"
    return UsageError(printable(f"{source}: {key}: {problem}"))


def kind_of(value: object) -> str:
    """Return how an error names a TOML value (``the number 3``, ``a table``, ``a list``)."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, Literal):
        return f"the number {value}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def check_keys(source: str, doc: dict[str, Any], keys: dict[str, bool], has: str, needs: str) -> None:
    """Raise for a key of ``doc`` not in ``keys`` ("unknown key; ``has`` has ...") or for one that
    ``keys`` marks required (True) missing from it ("missing; ``needs`` needs ...")."""
    for key in doc:
        if key not in keys:
            raise fail(source, key, f"unknown key; {has} has {', '.join(keys)}")
    required = [k for k, r in keys.items() if r]
    for key in required:
        if key not in doc:
            raise fail(source, key, f"missing; {needs} needs {', '.join(required)}")


def flag(source: str, key: str, value: object) -> bool:
    """Return a TOML boolean, or raise naming ``key``."""
    if not isinstance(value, bool):
        raise fail(source, key, f"expected true or false, got {kind_of(value)}")
    return value


def number(source: str, key: str, value: object) -> tuple[float, str, Decimal]:
    """Return ``(float, text as written, Decimal)`` for a TOML number, or raise naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, Literal)):
        hint = " (write numbers without quotes)" if isinstance(value, str) else ""
        raise fail(source, key, f"expected a number, got {kind_of(value)}{hint}")
    written = str(value)
    if isinstance(value, int):
        exact = Decimal(value)
    else:
        try:
            exact = Decimal(written)
        except InvalidOperation:  # pragma: no cover - tomllib only passes valid floats
            raise fail(source, key, f"{written!r} is not a number") from None
    if not exact.is_finite():
        raise fail(source, key, f"expected a finite number, got {written}")
    as_float = float(exact)
    if math.isinf(as_float):
        shown = short_repr(value) if isinstance(value, int) else short_repr(written).strip("'")
        raise fail(source, key, f"{shown} is too large for a float (floats go up to about 1.8e308)")
    return as_float, written, exact


def string(source: str, key: str, value: object) -> str:
    """Return a TOML string, or raise naming ``key``."""
    if not isinstance(value, str) or isinstance(value, Literal):
        raise fail(source, key, f"expected a string, got {kind_of(value)}")
    return value


def table(source: str, key: str, value: object) -> dict[str, Any]:
    """Return a TOML table, or raise naming ``key``."""
    if not isinstance(value, dict):
        raise fail(source, key, f"expected a table ([{key}] with one 'name = value' per line), "
                                 f"got {kind_of(value)}")
    return value
