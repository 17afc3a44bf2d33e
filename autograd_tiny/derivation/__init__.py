"""Derivation files: a small network's numbers plus the figures a hand derivation claims.

``load_derivation(path_or_text)`` reads a TOML derivation file and returns a
:class:`Derivation`; ``Derivation.check()`` judges every claimed figure (``ok``,
``follows`` from an earlier slip, or ``wrong``, with a hint). ``autograd-tiny check``
is the command-line form. The file format is described in
:mod:`autograd_tiny.derivation.format` (files without ``layers`` in
:mod:`autograd_tiny.derivation.expression`), the verdicts in
:mod:`autograd_tiny.derivation.checker`, the hints in
:mod:`autograd_tiny.derivation.misconceptions`.
"""

from .checker import ClaimResult, check_spec, format_json, format_text, summary
from .core import (
    Derivation,
    example_names,
    example_text,
    example_title,
    from_text,
    load_derivation,
    load_example,
)
from .expression import ExpressionDerivation, ExpressionSpec
from .format import Claim, Quantity, Spec, parse_file, parse_spec
from .network import Network

__all__ = [
    "Claim",
    "ClaimResult",
    "Derivation",
    "ExpressionDerivation",
    "ExpressionSpec",
    "Network",
    "Quantity",
    "Spec",
    "check_spec",
    "example_names",
    "example_text",
    "example_title",
    "format_json",
    "format_text",
    "from_text",
    "load_derivation",
    "load_example",
    "parse_file",
    "parse_spec",
    "summary",
]
