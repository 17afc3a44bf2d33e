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
# # A 2-2-1 network, one step of backpropagation (seed 000)
#
# The article behind this notebook takes a network with two inputs, two hidden neurons
# (`h1`, `h2`) and one output (`o`) through one step of backpropagation: sigmoid activations,
# every bias value 1 (`b1` into the hidden neurons, `b2` into the output), half the squared
# error against the target 0.99, learning rate 0.4, weights updated and biases left alone.
# The backward pass uses the original `w5` and `w6`, not the updated ones.
#
# Its inputs, weights and every intermediate figure were images, and they are lost. Of the
# calculation, only three numbers survive in its text. This notebook first checks what can be checked from
# those three numbers alone, then works through the same kind of network with numbers of
# our own (the shipped example `seed000`).

# %%
import autograd_tiny as at
from autograd_tiny.derivation import load_example

# the parts every article notebook shares, from notebooks/_walkthrough.py
from _walkthrough import Walkthrough, describe, gradient_check, plot_losses, train_to_convergence

# %% [markdown]
# ## What the article's text still states
#
# The three figures and the set-up, exactly as the text gives them:

# %%
from autograd_tiny.functional import local_derivatives

OUT_BEFORE = 0.37163015135768  # the output of the first forward pass
OUT_AFTER = 0.64623980051852  # the output after one step
DE_DW5 = -0.059693437674795  # dE/dw5 in the first backward pass
TARGET, LEARNING_RATE, BIAS = 0.99, 0.4, 1.0

# %% [markdown]
# What can and cannot be checked:
#
# | quantity | checkable? | why |
# |---|---|---|
# | `net_h1`, `out_h1`, ..., `net_o` of the first pass | no | they need the lost inputs and weights |
# | the loss `E` before the step | computable | from the output and the target alone |
# | `dE/dout_o`, `dout_o/dnet_o`, `dE/dnet_o` | computable | from the output alone |
# | `dE/dw5` | partly | it equals `dE/dnet_o * out_h1`, so the `out_h1` it implies must lie in (0, 1) |
# | `w1+` ... `w6+` | no | they need the lost weights |
# | the output after the step | no | it needs every lost number; only the loss it implies can be computed |
#
# The text does not state the loss, so the figures below are the engine's, not a check of the
# article's arithmetic.

# %% [markdown]
# ### The output neuron, rebuilt from its output
#
# The sigmoid's inverse gives the net input that produces the stated output. From that net
# input the engine builds `out_o = sigmoid(net_o)` and `E = 1/2 (target - out_o)^2` as Values,
# and `backward()` gives the derivatives; `local_derivatives` reads `dout_o/dnet_o` off the
# table's sigmoid entry.

# %%
o = at.Value(OUT_BEFORE)
net_o = at.Value(((o / (1 - o)).log()).data, label="net_o")  # the inverse of the sigmoid
out_o = net_o.sigmoid()
out_o.label = "out_o"
E0 = 0.5 * (TARGET - out_o) ** 2
E0.label = "E"
E0.backward()
(dout_dnet,) = local_derivatives(out_o)
print(f"net_o = {net_o.data:.12f}   (sigmoid of it: {out_o.data:.14f}, the article's output)")
print(f"E         = {E0.data:.12f}")
print(f"dE/dout_o = {out_o.grad:.12f}")
print(f"dout_o/dnet_o = {float(dout_dnet):.12f}")
print(f"dE/dnet_o = {net_o.grad:.12f}")

# %% [markdown]
# ### The `out_h1` that `dE/dw5` implies
#
# `net_o = w5 * out_h1 + w6 * out_h2 + b2`, so by the table's product rule `dnet_o/dw5 = out_h1`,
# and `dE/dw5 = dE/dnet_o * out_h1`. Dividing the article's `dE/dw5` by `dE/dnet_o` gives the
# hidden output it needs. A sigmoid output must lie strictly between 0 and 1.

# %%
out_h1 = at.Value(DE_DW5) / net_o.grad
print(f"implied out_h1 = {out_h1.data:.12f}   possible sigmoid output: {0 < out_h1.data < 1}")
net_h1 = (out_h1 / (1 - out_h1)).log()
print(f"implied net_h1 = {net_h1.data:.12f}")
print(f"so w1 * i1 + w2 * i2 = net_h1 - b1 = {(net_h1 - BIAS).data:.12f}")

# %% [markdown]
# The implied hidden output is a possible sigmoid output, and the net input it comes from is a
# round number to about a dozen digits, which is what a hand-picked example gives: the stated
# output and `dE/dw5` fit together. The sign fits too: the output is below the target, so
# `dE/dnet_o` is negative and, with a positive `out_h1`, so is `dE/dw5`.
#
# A round trip through the engine: put that `out_h1` into an output neuron whose net input is
# the one found above, for two quite different values of `w5` (the rest of the net input is
# whatever makes up the difference), and let `backward()` compute `dE/dw5`:

# %%
for w5_value in (-0.9, 2.5):
    w5 = at.Value(w5_value, label="w5")
    h1 = at.Value(out_h1.data, label="out_h1")
    rest = at.Value(net_o.data - w5_value * h1.data, label="w6 * out_h2 + b2")
    loss = 0.5 * (TARGET - (w5 * h1 + rest).sigmoid()) ** 2
    loss.backward()
    print(f"w5 = {w5_value:5}: dE/dw5 = {w5.grad:.15f}   article {DE_DW5:.15f}   "
          f"difference {abs(w5.grad - DE_DW5):.1e}")

# %% [markdown]
# ### The output after the step
#
# The stated output after the step does lower the loss. How much of the jump in the output's
# net input could the output layer's own update explain? With the hidden outputs held where
# they were, `w5` moves by `-lr * dE/dw5` (known) and `w6` by `-lr * dE/dnet_o * out_h2`, where
# `out_h2` is unknown but below 1, so together they move `net_o` by less than
# `-lr * dE/dnet_o * (out_h1^2 + 1)`.

# %%
o_after = at.Value(OUT_AFTER)
E_after = 0.5 * (TARGET - o_after) ** 2
net_after = (o_after / (1 - o_after)).log()
print(f"E after the step = {E_after.data:.12f}   (before: {E0.data:.12f})")
needed = net_after - net_o.data
bound = -LEARNING_RATE * net_o.grad * (out_h1 * out_h1 + 1)
print(f"net_o must move by          {needed.data:.6f}")
print(f"w5 and w6 move it by under  {bound.data:.6f}   "
      f"(output then below {(net_o.data + bound).sigmoid().data:.6f})")

# %% [markdown]
# So nearly all of the change has to come through the hidden layer, from the updates of `w1` to
# `w4`, and how large that is depends on the lost inputs and weights (large inputs or a large
# `w5` make it large). The output after the step can be neither confirmed nor refuted.
#
# ## The same network with numbers of our own
#
# From here on the notebook uses the shipped example `seed000`: the article's set-up
# (sigmoid, biases 1, target 0.99, learning rate 0.4, biases kept fixed) with inputs and
# weights that we chose, because the article's are lost. None of the numbers below is the
# article's.

# %%
d = load_example("seed000")
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
# ## The checker
#
# The example's claims were computed by autograd-tiny itself (the article's figures cannot be
# claims), so every verdict is `ok`: the table records the numbers a hand derivation of this
# network should arrive at.

# %%
results = d.check()  # a list of verdicts, shown as a table
results

# %% [markdown]
# ## The chain rule for `dE/dw1`, written out
#
# `explain` follows every path from `E` down to a parameter through the named quantities and
# multiplies the local derivatives along it; the formulas come from the table, the numbers
# from the graph. A hidden weight has one path here, through `w5`:

# %%
d.explanation("w1")  # shown as Markdown tables (LaTeX where Markdown is not shown)

# %% [markdown]
# ## Training to convergence
#
# The same step, repeated with the example's learning rate until the loss is tiny. With a
# sigmoid output the target is approached but never reached, so the curve keeps falling.

# %%
losses = train_to_convergence(d)  # the loss before each step, i.e. after 0, 1, 2 ... steps

# %%
plot_losses(losses, "2-2-1 network (seed000): loss during training")
d.reset()  # back to the file's numbers
