"""``autograd-tiny explain FILE PARAM``: the chain-rule derivation of dE/dPARAM."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from ..explain import FORMATS, explain_gradient
from ..formula import MAX_DIGITS
from ..value import topological_order
from ._common import add_source_arguments, is_trainable, load, positive_int


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``explain`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "explain",
        help="derive dE/dPARAM by the chain rule, path by path (or in delta form), with every number",
        description=(
            "Write the chain-rule derivation of the loss's derivative with respect to PARAM "
            "(a weight or bias of the file, or a neuron quantity such as net_o1): every path "
            "from E to PARAM through named quantities, each factor's formula and number, the "
            "sum, and the gradient-descent update. --form delta writes the textbook recursion "
            "instead: one line per named quantity (each neuron's delta), short for deep networks."
        ),
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a derivation file (or use --example)")
    parser.add_argument("param", metavar="PARAM",
                        help="the weight or bias (w1, b2 ...) or neuron quantity (net_o1, out_h1) to explain")
    add_source_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), markdown (tables with $...$ maths) or latex (align*)")
    parser.add_argument("--form", choices=("path", "delta"), default="path",
                        help="path: every chain-rule path with its factors (default); delta: the "
                             "textbook recursion, one delta per neuron (short for deep networks)")
    parser.add_argument("--digits", default="6", metavar="N",
                        help=f"significant digits of the numbers shown (1 to {MAX_DIGITS}, default 6)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the derivation; return the exit status (0)."""
    file, param = args.file, args.param
    if file is None and args.example is None:
        raise UsageError(f"give a derivation FILE before {param!r}, or --example NAME for a shipped one")
    digits = positive_int(args.digits, "--digits", MAX_DIGITS)
    derivation = load(file, args.example)
    loss = derivation.loss()
    target = derivation.parameters.get(param)
    if target is None and not any(v.label == param for v in topological_order(loss)):
        known = ", ".join(derivation.parameters)
        raise UsageError(
            f"cannot explain {param!r}: it is no weight or bias of {file or args.example} ({known}) "
            "and no named quantity of its graph such as net_<neuron> or out_<neuron>"
        )
    trainable = target is not None and is_trainable(derivation, target)
    learning_rate = derivation.learning_rate if trainable else None
    try:
        text = explain_gradient(loss, target if target is not None else param, form=args.form,
                                learning_rate=learning_rate, fmt=args.format, digits=digits)
    except ValueError as exc:  # e.g. a graph too deep to write out: the message says what to do
        raise UsageError(f"cannot explain {param!r}: {exc}") from None
    print(text, end="")
    if target is not None and learning_rate is None and hasattr(derivation, "network"):
        note = f"{param} is kept fixed (update_biases = false), so gradient descent does not change it."
        print({"text": note, "markdown": f"\n{note}", "latex": f"% {note}"}[args.format])
    return 0
