"""The walk through one derivation file that every article notebook shows (imported by the
notebooks, which run with this folder as their working directory; not a notebook itself, and
not paired by jupytext: only NN_*.py files are).

Each function prints or draws one part of the walk, so a notebook keeps its own prose, figures
and findings and calls these for the parts all articles share: the set-up, the forward pass
neuron by neuron, the loss, the backward pass, the central-difference check and training to
convergence.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")  # draw off-screen; each figure is embedded in the notebook as a PNG
import matplotlib.pyplot as plt  # noqa: E402
from IPython.display import Image, display  # noqa: E402

import autograd_tiny as at  # noqa: E402

#: Train until the loss is below this (then every output is within 0.0045 of its target).
TOL = 1e-5


def show(fig):
    """Embed a matplotlib figure in the notebook as a PNG, then close it; returns None."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    display(Image(buf.getvalue()))


def by_label(root):
    """Return the labelled Values of root's graph, by label."""
    return {v.label: v for v in at.topological_order(root) if v.label}


def num(x, spec):
    """Return x formatted with spec, in parentheses when negative."""
    return f"({x:{spec}})" if x < 0 else f"{x:{spec}}"


def _line(head, items):
    print(textwrap.fill(", ".join(items), 100, initial_indent=f"{head:9}", subsequent_indent=" " * 9))


def describe(d):
    """Print the derivation's title and set-up: network, inputs, targets, weights, biases, loss."""
    print(d.title)
    print()
    _line("network", [" -> ".join(", ".join(layer) for layer in d.layers) + f" ({', '.join(d.activations)})"])
    _line("inputs", [f"{n} = {x.data:g}" for n, x in d.inputs.items()])
    _line("targets", [f"{n} = {t:g}" for n, t in d.targets.items()])
    _line("weights", [f"{n} = {w.value:g} ({w.source} -> {w.target})" for n, w in d.spec.weights.items()])
    _line("biases", [f"{n} = {b.value:g} (into {' '.join(b.neurons)})" for n, b in d.spec.biases.items()])
    _line("loss", [d.loss_name, f"learning rate {d.learning_rate:g}",
                   "biases trained" if d.update_biases else "biases kept fixed"])


class Walkthrough:
    """One forward pass of a derivation's network (`d.loss()`), with its Values by label.

    `E` is the loss, the root of the graph; `v` maps each label to its Value.
    """

    def __init__(self, d):
        self.d = d
        self.E = d.loss()  # a fresh forward pass: E is the root of a graph of Values
        self.v = by_label(self.E)

    def out(self, name):
        """Return the Value of an input or of a neuron's output (with identity, its net input)."""
        for label in (name, f"out_{name}", f"net_{name}"):
            if label in self.v:
                return self.v[label]
        raise KeyError(name)

    def net_sum(self, n):
        """Return neuron n's net input written out: symbols, then numbers."""
        d, v, out = self.d, self.v, self.out
        ws = [(w, spec.source) for w, spec in d.spec.weights.items() if spec.target == n]
        bs = [b for b, spec in d.spec.biases.items() if n in spec.neurons]
        symbols = [f"{w} * {out(s).label}" for w, s in ws] + bs
        numbers = [f"{num(v[w].data, 'g')} * {num(out(s).data, '.6g')}" for w, s in ws]
        numbers += [num(v[b].data, "g") for b in bs]
        return (f"net_{n} = {' + '.join(symbols)}\n"
                f"{'':{len(n) + 5}}= {' + '.join(numbers)} = {v['net_' + n].data:.9g}")

    def print_forward(self):
        """Print every neuron's net input and output, layer by layer."""
        for layer, activation in zip(self.d.layers[1:], self.d.activations):
            for n in layer:
                print(self.net_sum(n))
                print(f"out_{n} = {activation}(net_{n}) = {self.out(n).data:.9g}")

    def print_loss(self):
        """Print each output's half squared error and their sum E."""
        d, E = self.d, self.E
        for n in d.layers[-1]:
            term = self.v.get(f"E_{n}", E)
            print(f"E_{n} = 1/2 ({d.targets[n]:g} - out_{n})^2 = 1/2 ({d.targets[n]:g} - "
                  f"{self.out(n).data:.9g})^2 = {term.data:.9g}")
        print(f"E = {E.data:.9g}")

    def backward(self):
        """Run E.backward() and print each parameter's value, gradient and value after one step."""
        d = self.d
        self.E.backward()  # reverse mode: every parameter's grad is now dE/dparameter
        print(f"{'param':6} {'value':>7}  {'dE/dparam':>16}  after one step "
              f"(learning rate {d.learning_rate:g})")
        for name, p in d.parameters.items():
            if d.spec.is_trainable(name):
                after = f"{p.data - d.learning_rate * p.grad:.9g}"
            else:
                after = f"{p.data:g} (kept fixed)"
            print(f"{name:6} {p.data:7g}  {p.grad:16.9g}  {after}")


def gradient_check(d, h=1e-6):
    """Compare every parameter's grad with the central difference (E(p + h) - E(p - h)) / 2h
    of the loss, print the largest gap, and return the grads (every d.loss() zeroes them)."""
    grads = {name: p.grad for name, p in d.parameters.items()}
    worst = 0.0
    for name, p in d.parameters.items():
        x = p.data
        p.data = x + h
        up = d.loss().data
        p.data = x - h
        down = d.loss().data
        p.data = x
        worst = max(worst, abs((up - down) / (2 * h) - grads[name]))
    print(f"{len(grads)} parameters: largest |backward - central difference| = {worst:.1e}")
    return grads


def train_to_convergence(d, tol=TOL, limit=50_000):
    """Train from the file's numbers, 1000 steps at a time, until the loss is below tol (at most
    limit steps); print when it got there and the outputs; return the loss before each step."""
    d.reset()
    losses = []  # the loss before each step, i.e. after 0, 1, 2 ... steps
    while len(losses) < limit and (not losses or losses[-1] >= tol):
        losses += d.train(1000)
    below = next(k for k, e in enumerate(losses) if e < tol)
    print(f"E < {tol:g} after {below} steps (trained {len(losses)} steps in all)")
    print(f"E = {losses[0]:.6g} before training, {d.loss().data:.3g} after")
    for n, o in d.outputs().items():
        print(f"out_{n} = {o.data:.6f}   target {d.targets[n]:g}")
    return losses


def plot_losses(losses, title, tol=TOL, marks=()):
    """Show the loss during training (log scale) with tol marked, and each (y, label) in marks
    as a dashed line; returns None."""
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.semilogy(losses, label="E")
    ax.axhline(tol, color="grey", linestyle=":", linewidth=1, label=f"{tol:g}")
    for y, label in marks:
        ax.axhline(y, color="tab:red", linestyle="--", linewidth=1, label=label)
    ax.set_xlabel("gradient-descent steps")
    ax.set_ylabel("E (log scale)")
    ax.set_title(title)
    ax.legend()
    show(fig)
