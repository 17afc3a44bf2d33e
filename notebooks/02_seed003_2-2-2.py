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
# # A 2-2-2 network, the article's own figures checked (seed 003)
#
# This article works one step of backpropagation on a network with two inputs, two sigmoid
# hidden neurons and two sigmoid outputs by hand, with every number written out: the forward
# pass, the loss (half the squared error), the output-layer and hidden-layer gradients, an
# update of `w1` with learning rate 0.5 and the loss after the step. It updates the weights
# only; the biases (`b1` shared by the hidden neurons, `b2` by the outputs) stay fixed.
#
# The shipped example `seed003` holds its numbers, its own weight names (`w4` runs from `x2`
# to `h1`, `w3` from `x1` to `h2`) and, as claims, the figures it wrote down. The engine
# computes the same quantities, and the checker says where the hand arithmetic slipped.

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
d = load_example("seed003")
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
# ## The checker on the article's figures
#
# For each written figure the checker gives one of three verdicts:
#
# * **ok**: it equals the engine's value to the precision it is written with (within one unit
#   of its last digit);
# * **follows**: it does not, but it equals the value recomputed from the article's own other
#   figures: the slip was made earlier and carried forward correctly;
# * **wrong**: neither; the slip is in this step. When the number matches a known kind of
#   slip (a flipped sign, a factor 2, the wrong learning rate ...) the hint says so.

# %%
results = d.check()  # a list of verdicts, shown as a table
results

# %%
by_claim = {r.claim: r for r in results}
written = {r.claim: float(r.written) for r in results}
for r in results:
    if r.verdict != "ok":
        print(f"{r.claim:7} written {r.written:12} engine {r.computed:<14.9g} "
              f"from the article's other figures {r.recomputed:<14.9g} {r.verdict}")
        if r.hint:
            print(f"{'':8}{r.hint}")

# %% [markdown]
# ### The first slip: `net_o1`
#
# The correct net input of `o1`, from the engine's numbers (its hidden outputs agree with the
# article's to the digits written):

# %%
print(net_sum("o1"))
print(f"the article writes net_o1 = {by_claim['net_o1'].written}")

# %% [markdown]
# No simple slip gives the written `net_o1`, and the checker offers no hint. Everything that
# uses it inherits the error: the article's sigmoid of its own `net_o1` is right, which is why
# `out_o1` only *follows*:

# %%
print(f"sigmoid(written net_o1) = {at.Value(written['net_o1']).sigmoid().data:.7f}   "
      f"written out_o1 = {written['out_o1']}")
print(f"sigmoid(written net_o2) = {at.Value(written['net_o2']).sigmoid().data:.7f}   "
      f"written out_o2 = {written['out_o2']}")

# %% [markdown]
# `net_o2` is right to the digits the rounded hidden outputs allow, but the sigmoid of it is
# not the written `out_o2`: a second, independent slip, in evaluating the sigmoid. The loss
# follows from both. Recomputed from the article's own outputs with the library's loss:

# %%
outs_written = [at.Value(written["out_o1"]), at.Value(written["out_o2"])]
E_written = nn.half_squared_error(outs_written, [d.targets["o1"], d.targets["o2"]])
print(f"E from the written outputs = {E_written.data:.8f}   written E = {written['E']}   "
      f"engine E = {E.data:.8f}")

# %% [markdown]
# ### `w1+`: the hidden-layer update
#
# The written `w1+` is wrong even when it is recomputed from the article's own figures, so its
# slip is in the gradient of `w1` itself. The derivation the article should have arrived at,
# from `explain` (two paths, one through each output):

# %%
print(d.explain("w1"))

# %%
w1 = d.parameters["w1"].data
implied = (w1 - written["w1+"]) / d.learning_rate
print(f"dE/dw1 implied by the written w1+ = {implied:.6g}")
print(f"dE/dw1 by backward()              = {grads['w1']:.6g}   (ratio {implied / grads['w1']:.3f})")

# %% [markdown]
# ### `E+`: the loss after the step
#
# The engine takes the step (all eight weights, learning rate 0.5, biases fixed) and runs the
# forward pass again:

# %%
d.reset()
d.train(1)
print("after one step:", ", ".join(f"{n} = {p.data:.6f}" for n, p in d.parameters.items()))
E_plus = d.loss()
print(", ".join(f"out_{n} = {o.data:.7f}" for n, o in d.outputs().items()))
d.reset()
r = by_claim["E+"]
print(f"E after one step: engine {E_plus.data:.9f}, from the article's figures {r.recomputed:.9f}, "
      f"written {r.written}")
print(f"the step lowers E by {E.data - E_plus.data:.6g} (engine)")

# %% [markdown]
# ## The chain rule for `dE/dw5`, as Markdown
#
# An output-layer weight has a single path, `E -> E_o1 -> out_o1 -> net_o1 -> w5`:

# %%
d.explanation("w5")  # shown as Markdown tables (LaTeX where Markdown is not shown)

# %% [markdown]
# ## Training to convergence
#
# The article expects the loss to fall below 0.1 after thousands of steps. The engine trains
# the network with the article's learning rate until the loss is tiny, and reports the step at
# which the loss first fell below 0.1:

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

print(f"E < 0.1 after {next(k for k, e in enumerate(losses) if e < 0.1)} steps")

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.semilogy(losses, label="E")
ax.axhline(TOL, color="grey", linestyle=":", linewidth=1, label=f"{TOL:g}")
ax.axhline(0.1, color="tab:red", linestyle="--", linewidth=1, label="0.1")
ax.set_xlabel("gradient-descent steps")
ax.set_ylabel("E (log scale)")
ax.set_title("2-2-2 network (seed003): loss during training")
ax.legend()
show(fig)
d.reset()  # back to the file's numbers
