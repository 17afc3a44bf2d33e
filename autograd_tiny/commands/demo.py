"""``autograd-tiny demo``: one step of backpropagation on the 2-2-2 network of seed 004, shown whole.

The report has the forward pass (net input and output of every neuron), the loss
and its terms, every gradient with the updated parameters, the chain-rule
derivation of dE/dw5, and the checker's verdicts on the hand calculation of
seed 003. Every number is computed here, from the shipped example files.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._numeric import printable
from ..explain import explain_gradient
from ..value import Value, topological_order
from ._common import (
    add_drawing_arguments,
    check_html_path,
    check_out_dir,
    decimals_of,
    is_trainable,
    write_html,
    write_svgs,
)

#: The shipped examples the demo runs: the network it trains, and the hand calculation it checks.
NETWORK_EXAMPLE = "seed004"
CHECKED_EXAMPLE = "seed003"
#: The parameter whose chain-rule derivation the demo writes out.
EXPLAINED = "w5"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="one backpropagation step on a 2-2-2 network, every number shown (start here)",
        description=(
            "Run one step of backpropagation on the 2-2-2 sigmoid network of the shipped "
            f"example {NETWORK_EXAMPLE}: forward pass, loss, every gradient, the updated "
            f"weights, the chain rule for dE/d{EXPLAINED}, and the checker's verdicts on the "
            f"hand calculation of example {CHECKED_EXAMPLE}."
        ),
    )
    parser.add_argument("--out", metavar="DIR",
                        help="also write the gradient graph and network diagram as SVG files into DIR")
    parser.add_argument("--html", metavar="PATH",
                        help="also write the stepper page of the network (one self-contained HTML file)")
    add_drawing_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _num(value: float) -> str:
    """Return a table entry: nine significant digits, no padding zeros."""
    return f"{value:.9g}"


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Return the rows as lines of left-aligned columns."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = []
    for row in [header, *rows]:
        lines.append(indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return lines


def _named(loss: Value) -> dict[str, Value]:
    """Return the labelled nodes of the loss's graph by label."""
    return {v.label: v for v in topological_order(loss) if v.label}


def _section(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def report(derivation: Any, checked: Any | None) -> list[str]:
    """Return the demo's report as lines (``checked``: the derivation whose claims are judged)."""
    from ..derivation import format_text

    lr = derivation.learning_rate
    loss = derivation.loss()
    named = _named(loss)
    neurons = [n for layer in derivation.layers[1:] for n in layer]
    outputs = derivation.layers[-1]
    shape = " -> ".join(", ".join(layer) for layer in derivation.layers)
    inputs = ", ".join(f"{n} = {_num(v.data)}" for n, v in derivation.inputs.items())
    targets = ", ".join(f"{n} = {_num(v)}" for n, v in derivation.targets.items())
    activations = sorted(set(derivation.activations))
    frozen = [n for n, p in derivation.parameters.items() if not is_trainable(derivation, p)]
    lines = [
        f"autograd-tiny demo: one step of backpropagation on example {NETWORK_EXAMPLE}",
        f"  {derivation.title}" if derivation.title else "",
        "",
        f"  network    {shape} ({', '.join(activations)})",
        f"  inputs     {inputs}",
        f"  targets    {targets}",
        f"  loss       {derivation.loss_name}, learning rate {_num(lr)}"
        + (f"; {', '.join(frozen)} kept fixed" if frozen else ""),
    ]
    if not derivation.title:
        del lines[1]

    lines += _section("Forward pass")
    rows = []
    for n in neurons:
        net = named.get(f"net_{n}")
        out = named.get(f"out_{n}", net)
        rows.append([n, _num(net.data) if net else "?", _num(out.data) if out else "?"])
    lines += _table(["neuron", "net_N", "out_N"], rows)

    lines += _section("Loss")
    terms = [(f"E_{n}", named[f"E_{n}"].data) for n in outputs if f"E_{n}" in named]
    for name, value in terms:
        lines.append(f"  {name} = {_num(value)}")
    if terms:
        lines.append(f"  E = {' + '.join(name for name, _ in terms)} = {_num(loss.data)}")
    else:
        lines.append(f"  E = {_num(loss.data)}")

    loss.backward()
    lines += _section(f"Gradients and updated parameters (learning rate {_num(lr)})")
    rows = []
    for name, p in derivation.parameters.items():
        updated = _num(p.data - lr * p.grad) if name not in frozen else f"{_num(p.data)} (kept fixed)"
        rows.append([name, _num(p.data), _num(p.grad), updated])
    lines += _table(["param", "value", "dE/dparam", "after one step"], rows)

    lines += _section(f"Chain rule for dE/d{EXPLAINED}")
    target = derivation.parameters[EXPLAINED]
    text = explain_gradient(loss, target, learning_rate=None if EXPLAINED in frozen else lr)
    lines += ["  " + line if line else "" for line in text.rstrip("\n").split("\n")]

    if checked is not None:
        lines += _section(f"Checking the hand calculation of example {CHECKED_EXAMPLE}")
        report_text = format_text(checked.check(), checked.title)
        lines += ["  " + line if line else "" for line in report_text.rstrip("\n").split("\n")]
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the demo report (and write SVGs with ``--out``); return the exit status (0)."""
    from ..derivation import load_example

    decimals = decimals_of(args)
    if args.out is not None:
        check_out_dir(args.out, "--out")
    if args.html is not None:
        check_html_path(args.html, "--html")
    derivation = load_example(NETWORK_EXAMPLE)
    checked = load_example(CHECKED_EXAMPLE)
    print("\n".join(report(derivation, checked)))
    if args.out is not None:
        derivation.reset()
        paths = write_svgs(derivation, args.out, "--out", decimals=decimals)
        print()
        print(f"SVG files written to {printable(str(Path(args.out)))}:")
        for p in paths:
            print(f"  {printable(str(p))}")
    if args.html is not None:
        derivation.reset()
        print()
        print(f"Stepper page written to {printable(str(write_html(derivation, args.html, '--html')))}")
    return 0
