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
import autograd_tiny as at
from autograd_tiny.derivation import load_example

# the parts every article notebook shares, from notebooks/_walkthrough.py
from _walkthrough import Walkthrough, describe, gradient_check, plot_losses, train_to_convergence

# %%
d = load_example("seed004")
describe(d)

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
losses = train_to_convergence(d)  # the loss before each step, i.e. after 0, 1, 2 ... steps

claim = next(r for r in results if r.claim == "E@10000")
print(f"E after 10,000 steps: {losses[10_000]:.10g}   claim E@10000 = {claim.written} ({claim.verdict})")

# %%
plot_losses(losses, "2-2-2 network (seed004): loss during training")
d.reset()  # back to the file's numbers
