"""The :class:`Derivation` object and :func:`load_derivation`."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .. import _display_hooks
from .._files import read_regular_file, source_name
from .._numeric import short_repr
from ..errors import UsageError
from ..value import Value
from .checker import ClaimResults, check_claims, computed, format_json, format_text
from .format import Claim, Quantity, Spec, parse_file, parse_quantity
from .interpreter import Replay
from .network import Network

if TYPE_CHECKING:  # pragma: no cover
    from ..explain import Explanation


class Derivation:
    """A network with its numbers and the figures a hand derivation claims for it.

    Build one with :func:`load_derivation`. Attributes:

    * ``network``: the :class:`autograd_tiny.nn.MLP` (neurons named as in the file,
      so its graph's nodes are labelled ``net_<N>`` and ``out_<N>``);
    * ``parameters``: weight and bias Values by name (labelled with their names; a
      shared bias is one Value; biases are frozen when ``update_biases = false``);
    * ``inputs``: the input leaves by name (the first sample's in a batch);
      ``input_names``; ``layers`` (neuron names per layer, input layer first);
      ``learning_rate``; ``title``;
    * ``spec``: the parsed file (:class:`~autograd_tiny.derivation.format.Spec`).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._net = Network(spec)
        self.network = self._net.mlp
        self.parameters: dict[str, Value] = self._net.parameters
        self.inputs: dict[str, Value] = self._net.inputs
        self.input_names: list[str] = list(spec.layers[0])
        self.layers: list[list[str]] = [list(layer) for layer in spec.layers]
        self.learning_rate: float = spec.learning_rate
        self.title: str = spec.title
        self.loss_name: str = spec.loss
        self.activations: list[str] = list(spec.activations)
        self.targets: dict[str, float] = dict(spec.targets)
        self.update_biases: bool = spec.update_biases

    def __repr__(self) -> str:
        shape = "-".join(str(len(layer)) for layer in self.layers)
        return f"Derivation({self.title or self.spec.source!r}, {shape}, {len(self.spec.claims)} claims)"

    def _repr_html_(self) -> str | None:
        return _display_hooks.html(self)  # registered by autograd_tiny.display

    @property
    def claims(self) -> list[Claim]:
        """Return the file's claims, in file order."""
        return self.spec.claims

    #: the name of what is differentiated (an expression file's output)
    output = "E"

    def loss(self) -> Value:
        """Return the loss Value of a fresh forward pass, labelled ``"E"``.

        Its per-output terms are labelled ``"E_<N>"``. Parameter gradients are zeroed
        first, so ``loss().backward()`` leaves exactly d E / d p in every ``p.grad``.
        """
        return self._net.forward().loss

    def outputs(self) -> dict[str, Value]:
        """Return a fresh forward pass's output Values by output neuron name."""
        fw = self._net.forward()
        return {n: fw.out[n] for n in self.layers[-1]}

    def train(self, steps: int) -> list[float]:
        """Take ``steps`` gradient-descent steps with the file's update rule; return the loss before each.

        Trains the parameters that are not frozen from their current values, continuing the steps
        taken before (momentum's velocities are kept until :meth:`reset`).
        """
        return self._net.train(steps)

    def reset(self) -> None:
        """Set every parameter back to the file's number and zero every gradient."""
        self._net.reset()

    def replay(self) -> Replay:
        """Return the derivation's computation as the interpreter runs it, from the file's numbers
        (:class:`~autograd_tiny.derivation.interpreter.Replay`; the checker's)."""
        return Network(self.spec).replay()

    def named_quantities(self, step: int = 0) -> list[Quantity]:
        """Return every quantity of step ``step`` a hand derivation writes, in the order it goes:
        every sample's forward values, the loss, every sample's deltas (``dE/dout_N``,
        ``dE/dnet_N``), the gradients, then each parameter after the step."""
        spec = self.spec
        found: list[Quantity] = []
        samples: list[int | None] = list(range(1, len(spec.samples) + 1)) if spec.batched else [None]
        neurons = [n for layer in spec.layers[1:] for n in layer]
        for s in samples:
            found += [Quantity(kind, n, step, s) for n in neurons for kind in ("net", "out")]
            if len(spec.layers[-1]) > 1:
                found += [Quantity("E_term", n, step, s) for n in spec.layers[-1]]
            if s is not None:
                found.append(Quantity("E", None, step, s))
        found.append(Quantity("E", None, step))
        for s in samples:
            found += [Quantity(kind, n, step, s) for n in reversed(neurons) for kind in ("dout", "dnet")]
        found += [Quantity("grad", p, step) for p in spec.parameter_names]
        return found + [Quantity("param", p, step + 1) for p in spec.parameter_names]

    def quantity(self, claim: str) -> Quantity:
        """Return the quantity a claim name names (``"w1+"``, ``"E@100"``).

        Raises:
            TypeError: ``claim`` is not a str.
            UsageError: the name names nothing in this derivation.
        """
        if not isinstance(claim, str):
            raise TypeError(f"expected a claim name (a str such as 'w1+'), got {type(claim).__name__}: "
                            f"{short_repr(claim)}")
        try:
            return self._parse(claim)
        except ValueError as exc:
            raise UsageError(f"{claim!r}: {exc}") from None

    def _parse(self, claim: str) -> Quantity:
        """Return the quantity ``claim`` names by the file's grammar (ValueError when none)."""
        return parse_quantity(claim, self.spec)

    def quantities(self, step: int = 0) -> dict[str, float]:
        """Return every quantity of step ``step`` by claim name (see :meth:`named_quantities`),
        computed from the file's numbers: the parameters are not changed.

        Raises:
            ValueError: ``step`` is not an int >= 0.
        """
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an int >= 0, got {step!r}")
        wanted = self.named_quantities(step)
        return {q.name: v for q, v in computed(self.replay(), wanted).items()}

    def value(self, claim: str) -> float:
        """Return the value of :meth:`quantity` ``claim``, computed from the file's numbers; raise as
        :meth:`quantity` does."""
        q = self.quantity(claim)
        return computed(self.replay(), [q])[q]

    def check(self, progress: bool = False) -> ClaimResults:
        """Return the verdict on every claim, in file order (see :mod:`autograd_tiny.derivation.checker`),
        leaving the parameters unchanged; ``progress`` shows a bar on stderr while a claim ``X@K``
        trains for many steps."""
        return check_claims(self.claims, self.replay(), self.output, progress, self.title)

    def report(self, fmt: str = "text") -> str:
        """Return the checker's report as ``"text"`` (a table and a summary) or ``"json"``."""
        results = self.check()
        if fmt == "json":
            return format_json(results)
        if fmt == "text":
            return format_text(results, self.title)
        raise ValueError(f"unknown format {fmt!r}; choose text or json")

    def explain(self, param: str | Value, fmt: str = "text", form: str = "path") -> str:
        """Return the chain-rule derivation of dE/d``param`` on a fresh forward pass.

        Args:
            param: a parameter's name (``"w5"``; in an expression file, any name) or Value.
            fmt: ``"text"``, ``"markdown"`` or ``"latex"``.
            form: ``"path"`` (every path) or ``"delta"`` (the textbook recursion, one delta
                per neuron).

        Raises:
            UsageError: ``param`` is not a parameter of this derivation, or ``fmt`` or ``form`` is unknown.
        """
        from ..explain import explain_gradient

        loss, value, rate = self._gradient_of(param)
        try:
            return explain_gradient(loss, value, learning_rate=rate, fmt=fmt, form=form)
        except UsageError:
            raise
        except ValueError as exc:
            name = param if isinstance(param, str) else value.label
            raise UsageError(f"cannot explain {name!r}: {exc}") from None

    def explanation(self, param: str | Value) -> Explanation:
        """Return :meth:`explain`'s derivation as an :class:`~autograd_tiny.explain.Explanation`, which
        Jupyter shows as Markdown tables (or LaTeX) and ``.render(fmt)`` prints; raise UsageError when
        ``param`` is not a parameter of this derivation."""
        from ..explain import explain

        loss, value, rate = self._gradient_of(param)
        return explain(loss, value, learning_rate=rate)

    def _gradient_of(self, param: str | Value) -> tuple[Value, Value, float | None]:
        """Return a fresh loss, the parameter ``param`` in its graph and its learning rate (None for a
        parameter that is not trained); raise UsageError when ``param`` is not a parameter."""
        if isinstance(param, Value):
            name = next((n for n, p in self.parameters.items() if p is param), None)
            if name is None:
                raise UsageError(f"{param!r} is not a parameter of this derivation")
        else:
            name = param
            if name not in self.parameters:
                raise UsageError(f"no weight or bias {name!r}; the parameters are "
                                 f"{', '.join(self.parameters)}")
        loss = self.loss()
        rate = self.learning_rate if self.spec.is_trainable(name) else None
        return loss, self.parameters[name], rate


def from_text(text: str, source: str) -> Derivation:
    """Return the Derivation of a file's text: a network's, or an expression file's
    (:class:`~autograd_tiny.derivation.expression.ExpressionDerivation`, for ``define``
    without ``layers``)."""
    spec = parse_file(text, source)
    if isinstance(spec, Spec):
        return Derivation(spec)
    from .expression import ExpressionDerivation

    return ExpressionDerivation(spec)


_KEY_START = re.compile(r"""\s*(\[|#|[A-Za-z0-9_-]+\s*=|"[^"\n]*"\s*=|'[^'\n]*'\s*=)""")


def _is_text(text: str) -> bool:
    """Return True when ``text`` is TOML rather than a path: it has a newline, or starts like TOML
    and names no existing file (or a name the OS refuses)."""
    try:
        return "\n" in text or (bool(_KEY_START.match(text)) and not Path(text).is_file())
    except (OSError, ValueError):
        return True


def load_derivation(path_or_text: str | os.PathLike[str]) -> Derivation:
    """Return the :class:`Derivation` of a derivation file.

    Args:
        path_or_text: a path (str or :class:`pathlib.Path`), or the TOML text itself
            (a str that contains a newline or starts with a TOML key or table).

    Raises:
        UsageError: the file cannot be read or is not a valid derivation file; the
            one-line message names the file, the key and the problem.
    """
    if isinstance(path_or_text, str) and _is_text(path_or_text):
        return from_text(path_or_text, "<text>")
    if not isinstance(path_or_text, (str, os.PathLike)):
        raise TypeError(f"expected a path or TOML text, got {type(path_or_text).__name__}: "
                        f"{short_repr(path_or_text)}")
    if isinstance(path_or_text, str) and not path_or_text.strip():
        raise UsageError("got an empty string; pass a derivation file's path or its TOML text")
    path = Path(path_or_text)
    data = read_regular_file(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source_name(path)}: not UTF-8 text (byte {exc.start}); "
                         "derivation files are TOML text") from None
    return from_text(text, source_name(path))


# -- the shipped examples ---------------------------------------------------------------------

def example_names() -> list[str]:
    """Return the names of the shipped example derivations, sorted."""
    folder = resources.files("autograd_tiny") / "examples"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def example_text(name: str) -> str:
    """Return the TOML text of a shipped example.

    Raises:
        UsageError: no example has that name (the message lists them).
    """
    if name not in example_names():
        raise UsageError(f"no example {name!r}; the examples are {', '.join(example_names())}")
    return (resources.files("autograd_tiny") / "examples" / f"{name}.toml").read_text("utf-8")


def load_example(name: str) -> Derivation:
    """Return the :class:`Derivation` of a shipped example (``autograd-tiny check --list-examples``)."""
    return from_text(example_text(name), f"{name}.toml")


def example_title(name: str) -> str:
    """Return a shipped example's title."""
    return load_example(name).title


__all__ = [
    "Derivation",
    "Quantity",
    "example_names",
    "example_text",
    "example_title",
    "load_derivation",
    "load_example",
]
