# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A 2-2-2 network, one step and ten thousand (seed 004)
#
# The second 2-2-2 article (two inputs, two hidden and two output neurons, two biases) walks
# through the forward pass, the error, the gradient of the total error with respect to `w5`
# as a product of three factors (`dE/dout_o1`, `dout_o1/dnet_o1`, `dnet_o1/dw5`) and the update of
# `w5`, then says to repeat until the error is small. Its figures were images and are lost.
#
# The shipped example `seed004` supplies the numbers of the network, and its claims were
# computed by autograd-tiny (every verdict is `ok`); it adds a claim about the loss after
# 10,000 steps. This notebook follows the article's steps with those numbers.

# %%
import io

import matplotlib

matplotlib.use("Agg")  # draw off-screen; each figure is embedded below as a PNG
import matplotlib.pyplot as plt
from IPython.display import Image, display


def show(fig):
    """Embed a matplotlib figure in the notebook as a PNG, then close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    display(Image(buf.getvalue()))


import textwrap

import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.derivation import load_example


def by_label(root):
    """Return the labelled Values of root's graph, by label."""
    return {v.label: v for v in at.topological_order(root) if v.label}


# %%
d = load_example("seed004")
print(d.title)
print()


def line(head, items):
    print(textwrap.fill(", ".join(items), 100, initial_indent=f"{head:9}", subsequent_indent=" " * 9))


line("network", [" -> ".join(", ".join(layer) for layer in d.layers) + f" ({', '.join(d.activations)})"])
line("inputs", [f"{n} = {x.data:g}" for n, x in d.inputs.items()])
line("targets", [f"{n} = {t:g}" for n, t in d.targets.items()])
line("weights", [f"{n} = {w.value:g} ({w.source} -> {w.target})" for n, w in d.spec.weights.items()])
line("biases", [f"{n} = {b.value:g} (into {' '.join(b.neurons)})" for n, b in d.spec.biases.items()])
line("loss", [d.loss_name, f"learning rate {d.learning_rate:g}",
              "biases trained" if d.update_biases else "biases kept fixed"])

# %% [markdown]
# The same set-up as Jupyter shows a derivation (`d` as a cell's last line):

# %%
d

# %%
at.draw_network(d)

# %% [markdown]
# ## Forward pass
#
# `d.loss()` runs the network on the inputs with Values, so every number below is a node of
# one graph. Each neuron adds up its weighted inputs and its bias (the net input `net_N`) and
# passes the sum through the activation (the output `out_N`).

# %%
E = d.loss()  # a fresh forward pass: E is the root of a graph of Values
v = by_label(E)


def out(name):
    """Return the Value of an input or of a neuron's output (with identity, its net input)."""
    for label in (name, f"out_{name}", f"net_{name}"):
        if label in v:
            return v[label]
    raise KeyError(name)


def num(x, spec):
    """Return x formatted with spec, in parentheses when negative."""
    return f"({x:{spec}})" if x < 0 else f"{x:{spec}}"


def net_sum(n):
    """Return neuron n's net input written out: symbols, then numbers."""
    ws = [(w, spec.source) for w, spec in d.spec.weights.items() if spec.target == n]
    bs = [b for b, spec in d.spec.biases.items() if n in spec.neurons]
    symbols = [f"{w} * {out(s).label}" for w, s in ws] + bs
    numbers = [f"{num(v[w].data, 'g')} * {num(out(s).data, '.6g')}" for w, s in ws]
    numbers += [num(v[b].data, "g") for b in bs]
    return (f"net_{n} = {' + '.join(symbols)}\n"
            f"{'':{len(n) + 5}}= {' + '.join(numbers)} = {v['net_' + n].data:.9g}")


for layer, activation in zip(d.layers[1:], d.activations):
    for n in layer:
        print(net_sum(n))
        print(f"out_{n} = {activation}(net_{n}) = {out(n).data:.9g}")

# %% [markdown]
# ## Loss
#
# Half the squared error of each output, added up.

# %%
for n in d.layers[-1]:
    term = v.get(f"E_{n}", E)
    print(f"E_{n} = 1/2 ({d.targets[n]:g} - out_{n})^2 = 1/2 ({d.targets[n]:g} - {out(n).data:.9g})^2"
          f" = {term.data:.9g}")
print(f"E = {E.data:.9g}")

# %% [markdown]
# ## Backward pass
#
# `E.backward()` walks the graph from `E` back to the parameters, multiplying the local
# derivatives of the operations (read from the table in `autograd_tiny/ops.py`) along every
# path and adding the paths. No gradient below is typed in by hand.

# %%
E.backward()  # reverse mode: every parameter's grad is now dE/dparameter
print(f"{'param':6} {'value':>7}  {'dE/dparam':>16}  after one step (learning rate {d.learning_rate:g})")
for name, p in d.parameters.items():
    if d.spec.is_trainable(name):
        after = f"{p.data - d.learning_rate * p.grad:.9g}"
    else:
        after = f"{p.data:g} (kept fixed)"
    print(f"{name:6} {p.data:7g}  {p.grad:16.9g}  {after}")

# %% [markdown]
# The whole computation graph of `E` after `backward()`: every Value with its `data` and its
# `grad` (dE/d that Value). Parameters are yellow, inputs blue, and the Values of each neuron
# sit in a dashed box.

# %%
at.draw_graph(E, params=d.parameters, inputs=d.input_names)

# %% [markdown]
# The same gradients on the network diagram, as the articles draw it (weights on the edges,
# biases as their own nodes):

# %%
at.draw_network(d)

# %% [markdown]
# A check that does not trust the engine: nudge each parameter by a small `h` both ways and
# take the central difference of the loss, `(E(p + h) - E(p - h)) / 2h`.

# %%
grads = {name: p.grad for name, p in d.parameters.items()}  # kept: every d.loss() zeroes them
h = 1e-6
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

# %% [markdown]
# ## The checker
#
# The claims are the engine's own figures, written to ten significant digits, so the checker
# confirms each of them: a record of the numbers a hand derivation of this network should
# reach (the last one needs 10,000 training steps).

# %%
results = d.check()  # a list of verdicts, shown as a table
results

# %% [markdown]
# ## `dE/dw5`, the article's worked gradient
#
# The three factors the article multiplies, each with its formula from the table and its
# number from the graph, and the update of `w5`:

# %%
d.explanation("w5")  # shown as Markdown tables (LaTeX where Markdown is not shown)

# %% [markdown]
# A hidden-layer weight collects one path through each output:

# %%
print(d.explain("w1"))

# %% [markdown]
# ## Training to convergence
#
# Repeat the step until the loss is tiny, and compare the loss after 10,000 steps with the
# example's claim `E@10000`:

# %%
TOL = 1e-5  # train until E is below this (then every output is within 0.0045 of its target)
d.reset()
losses = []  # the loss before each step, i.e. after 0, 1, 2 ... steps
while len(losses) < 50_000 and (not losses or losses[-1] >= TOL):
    losses += d.train(1000)
below = next(k for k, e in enumerate(losses) if e < TOL)
print(f"E < {TOL:g} after {below} steps (trained {len(losses)} steps in all)")
print(f"E = {losses[0]:.6g} before training, {d.loss().data:.3g} after")
for n, o in d.outputs().items():
    print(f"out_{n} = {o.data:.6f}   target {d.targets[n]:g}")

claim = next(r for r in results if r.claim == "E@10000")
print(f"E after 10,000 steps: {losses[10_000]:.10g}   claim E@10000 = {claim.written} ({claim.verdict})")

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.semilogy(losses, label="E")
ax.axhline(TOL, color="grey", linestyle=":", linewidth=1, label=f"{TOL:g}")
ax.set_xlabel("gradient-descent steps")
ax.set_ylabel("E (log scale)")
ax.set_title("2-2-2 network (seed004): loss during training")
ax.legend()
show(fig)
d.reset()  # back to the file's numbers
