"""Float functions with IEEE 754 results where Python's ``math`` would raise.

Python raises ``ZeroDivisionError`` for ``1.0 / 0.0``, ``OverflowError`` for
``math.exp(1000)`` and ``ValueError`` for ``math.log(0)``. PyTorch (float64)
returns ``inf``, ``inf`` and ``-inf``. These helpers return what PyTorch returns,
so that a graph never fails half-way through with an exception from inside.
"""

from __future__ import annotations

import math
import numbers

_INF = math.inf
_NAN = math.nan


def div(a: float, b: float) -> float:
    """Return ``a / b``; division by zero gives ``±inf`` (or ``nan`` for ``0/0``)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _is_odd_integer(b: float) -> bool:
    return b == b and not math.isinf(b) and float(b).is_integer() and int(b) % 2 == 1


def pow(a: float, b: float) -> float:  # noqa: A001 - mirrors the operator it implements
    """Return ``a ** b``; overflow gives ``±inf``, ``0 ** -n`` gives ``inf``, a
    negative base with a fractional exponent gives ``nan`` (also when ``|a ** b|``
    would overflow, as for ``(-10.0) ** 308.5``)."""
    try:
        r = a ** b
    except ZeroDivisionError:  # 0.0 ** negative
        return math.copysign(_INF, a) if _is_odd_integer(b) else _INF
    except OverflowError:  # |a ** b| beyond the float range; for a < 0 the sign depends on b
        if a < 0 and not float(b).is_integer():
            return _NAN  # no real power, however large: nan like PyTorch, not inf
        return -_INF if a < 0 and _is_odd_integer(b) else _INF
    if type(r) is complex:
        return _NAN
    return float(r)


def exp(x: float) -> float:
    """Return ``e ** x``; ``inf`` when it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def log(x: float) -> float:
    """Return ``ln x``: ``-inf`` at 0, ``nan`` below 0."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -_INF
    return _NAN


def sigmoid(x: float) -> float:
    """Return ``1 / (1 + e ** -x)`` without overflow for any ``x``."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = exp(x)
    return e / (1.0 + e)


def sqrt(x: float) -> float:
    """Return the square root; ``nan`` below 0."""
    return math.sqrt(x) if x >= 0.0 else _NAN


def sin(x: float) -> float:
    """Return the sine; ``nan`` for infinities."""
    return math.sin(x) if not math.isinf(x) else _NAN


def cos(x: float) -> float:
    """Return the cosine; ``nan`` for infinities."""
    return math.cos(x) if not math.isinf(x) else _NAN


tanh = math.tanh

#: ``|x|``: +0.0 at -0.0 and at +0.0, like PyTorch (``x if x > 0 else -x`` gives -0.0 at +0.0).
absolute = math.fabs


def printable(text: str) -> str:
    """Return ``text`` with every character that is not printable written as its escape.

    Line breaks, tabs, terminal control sequences (``\\x1b``), bidirectional overrides
    and the like become ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``: what ``repr`` would write,
    without the quotes. So a label shown in a terminal, or on one line of a line-based
    format (a LaTeX comment, a DOT string), stays on that line and shows what it holds.

    Returns:
        ``text`` itself when every character is printable (spaces are), else the escaped copy.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


#: Python refuses to turn ints with more digits than this into text (``sys.get_int_max_str_digits``).
_MAX_INT_DIGITS = 4300


def short_repr(value: object, limit: int = 60) -> str:
    """Return ``repr(value)`` for an error message, cut to about ``limit`` characters.

    A whole number too long to show is described by its size instead
    (``an int of 401 digits``), so ``Value(10 ** 400)`` does not print 401 digits and
    ints beyond Python's 4300-digit conversion limit do not raise while being shown.

    Returns:
        The text to put in the message.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        n = int(value)
        bits = abs(n).bit_length()
        if bits > 3.33 * limit:  # more than about ``limit`` digits
            sign = "a negative" if n < 0 else "an"
            if bits <= 3.32 * _MAX_INT_DIGITS:
                return f"{sign} int of {len(str(abs(n)))} digits"
            return f"{sign} int of more than {_MAX_INT_DIGITS} digits"
    try:
        text = repr(value)
    except ValueError:  # e.g. a Fraction whose numerator is beyond the conversion limit
        return f"a {type(value).__name__} too long to show"
    if len(text) <= limit:
        return text
    return f"{text[:limit - 5]}... ({len(text)} characters)"

#: The float implementation of every name that :data:`autograd_tiny.ops.FUNCTIONS` lists.
FLOAT_FUNCTIONS = {
    "exp": exp,
    "log": log,
    "tanh": tanh,
    "abs": absolute,
    "sigmoid": sigmoid,
    "sqrt": sqrt,
    "sin": sin,
    "cos": cos,
}
