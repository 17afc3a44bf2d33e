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
import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.derivation import load_example

# the parts every article notebook shares, from notebooks/_walkthrough.py
from _walkthrough import Walkthrough, describe, gradient_check, plot_losses, train_to_convergence

# %%
d = load_example("seed003")
describe(d)

# %%
at.draw_network(d)

# %% [markdown]
# ## Forward pass
#
# `d.loss()` runs the network on the inputs with Values, so every number below is a node of
# one graph. Each neuron adds up its weighted inputs and its bias (the net input `net_N`) and
# passes the sum through the activation (the output `out_N`).

# %%
walk = Walkthrough(d)  # a fresh forward pass (d.loss()): walk.E is the root of a graph of Values
E = walk.E
walk.print_forward()

# %% [markdown]
# ## Loss
#
# Half the squared error of each output, added up.

# %%
walk.print_loss()

# %% [markdown]
# ## Backward pass
#
# `E.backward()` walks the graph from `E` back to the parameters, multiplying the local
# derivatives of the operations (read from the table in `autograd_tiny/ops.py`) along every
# path and adding the paths. No gradient below is typed in by hand.

# %%
walk.backward()  # E.backward(), then every parameter with its dE/dparameter

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
grads = gradient_check(d)  # the grads, kept: every d.loss() zeroes them

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
print(walk.net_sum("o1"))
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
losses = train_to_convergence(d)  # the loss before each step, i.e. after 0, 1, 2 ... steps

print(f"E < 0.1 after {next(k for k, e in enumerate(losses) if e < 0.1)} steps")

# %%
plot_losses(losses, "2-2-2 network (seed003): loss during training", marks=[(0.1, "0.1")])
d.reset()  # back to the file's numbers
