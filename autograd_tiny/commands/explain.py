"""``autograd-tiny explain FILE PARAM``: the chain-rule derivation of dE/dPARAM.

Also home of the helpers that ``train`` and ``demo`` share with it: loading a
derivation from a FILE or ``--example NAME``, and checking whole-number options.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..explain import FORMATS, explain_gradient


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--example NAME`` (a shipped derivation instead of FILE) to ``parser``."""
    parser.add_argument(
        "--example", metavar="NAME",
        help="use a shipped example instead of FILE (autograd-tiny check --list-examples lists them)",
    )


def load(file: str | None, example: str | None) -> Any:
    """Return the Derivation of ``file``, or of the shipped example ``example``.

    Raises:
        UsageError: both or neither are given, the example is unknown, or the file
            cannot be read or is invalid.
    """
    from ..derivation import load_derivation, load_example

    if example is not None and file is not None:
        raise UsageError(f"give either FILE ({file!r}) or --example {example}, not both")
    if example is not None:
        return load_example(example)
    if file is None:
        raise UsageError("give a derivation FILE, or --example NAME for a shipped one")
    return load_derivation(Path(file))


def positive_int(text: str, option: str) -> int:
    """Return ``text`` as an int >= 1, or raise UsageError naming ``option`` and the value."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{option} must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise UsageError(f"{option} must be >= 1, got {value}")
    return value


def is_trainable(derivation: Any, param: Any) -> bool:
    """Return True when gradient descent updates ``param`` (a Value) in ``derivation``."""
    return any(p is param for p in derivation.network.parameters())


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``explain`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "explain",
        help="derive dE/dPARAM by the chain rule, path by path, with every number",
        description=(
            "Write the chain-rule derivation of the loss's derivative with respect to PARAM "
            "(a weight or bias of the file, or a neuron quantity such as net_o1): every path "
            "from E to PARAM through named quantities, each factor's formula and number, the "
            "sum, and the gradient-descent update."
        ),
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a derivation file (or use --example)")
    parser.add_argument("param", metavar="PARAM",
                        help="the weight or bias (w1, b2 ...) or neuron quantity (net_o1, out_h1) to explain")
    add_source_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), markdown (tables with $...$ maths) or latex (align*)")
    parser.add_argument("--digits", default="6", metavar="N",
                        help="significant digits of the numbers shown (default 6)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the derivation; return the exit status (0)."""
    file, param = args.file, args.param
    if file is None and args.example is None:
        raise UsageError(f"give a derivation FILE before {param!r}, or --example NAME for a shipped one")
    digits = positive_int(args.digits, "--digits")
    derivation = load(file, args.example)
    loss = derivation.loss()
    target = derivation.parameters.get(param)
    trainable = target is not None and is_trainable(derivation, target)
    learning_rate = derivation.learning_rate if trainable else None
    try:
        text = explain_gradient(loss, target if target is not None else param,
                                learning_rate=learning_rate, fmt=args.format, digits=digits)
    except ValueError as exc:
        known = ", ".join(derivation.parameters)
        raise UsageError(
            f"cannot explain {param!r}: it is no weight or bias of {file or args.example} ({known}) "
            "and no named quantity of its graph such as net_<neuron> or out_<neuron>"
        ) from exc
    print(text, end="")
    if target is not None and learning_rate is None:
        note = f"{param} is kept fixed (update_biases = false), so gradient descent does not change it."
        print({"text": note, "markdown": f"\n{note}", "latex": f"% {note}"}[args.format])
    return 0
