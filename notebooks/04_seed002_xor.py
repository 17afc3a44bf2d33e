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
# # XOR with an identity activation (seed 002)
#
# The article sets out to learn XOR with two inputs, three hidden units and one output, the
# identity as activation, every weight initialised to 1, a bias unit of value 1 feeding each
# layer and learning rate 0.1. It works one step on the first sample, `(0, 0)` with target 0,
# and finds every weight it updates at 1.4.
#
# The shipped example `seed002` holds that network and the figures of that step. The weights
# of the bias units (`W10`, `W20`, `W30` into the hidden units, `V00` into the output) are
# modelled as biases of value 1 under the same names, and trained like the other weights.
# `Wj1` comes from `X1` and `Wj2` from `X2` into hidden unit `Zj`; `V0j` goes from `Zj` to `D0`.
# The article's error signal at the output is the target minus the output; half the squared
# error, the loss used here, has the same difference with the opposite sign as its derivative.

# %%
import matplotlib.pyplot as plt

import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.derivation import load_example

# the parts every article notebook shares, from notebooks/_walkthrough.py
from _walkthrough import Walkthrough, describe, gradient_check, show

# %%
d = load_example("seed002")
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
E, v, out = walk.E, walk.v, walk.out
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
# The forward pass is right. The updates are not:

# %%
results = d.check()  # a list of verdicts, shown as a table
results

# %% [markdown]
# ### A flipped sign
#
# The article's error at the output is *target minus output*, and it updates
# `W := W - alpha * Z * delta` with it. With the error taken that way round, gradient descent
# has to *add* `alpha * Z * delta`; subtracting it moves every weight uphill. The engine's
# `dE/dnet_D0` is *output minus target*:

# %%
target = d.targets["D0"]
print(f"article's delta at D0 = target - output = {target - out('D0').data:g}")
print(f"engine's dE/dnet_D0   = {v['net_D0'].grad:g}")
print()
print(d.explain("W10"))


# %% [markdown]
# The article's step makes the loss on this sample larger, the correct step makes it smaller:

# %%
def loss_with(values):
    """Return E on the sample with the parameters set to values (then put them back)."""
    for name, value in values.items():
        d.parameters[name].data = value
    loss = d.loss().data
    d.reset()
    return loss


article_step = {name: 1.4 for name in d.parameters}  # the article moves every weight to 1.4
correct_step = {name: p.data - d.learning_rate * grads[name] for name, p in d.parameters.items()}
print(f"E before the step          = {E.data:g}")
print(f"E after the article's step = {loss_with(article_step):.6g}")
print(f"E after the correct step   = {loss_with(correct_step):.6g}")

# %% [markdown]
# ### A weight whose input is 0
#
# On the sample `(0, 0)` the weights out of `X1` and `X2` meet an input of 0, so their gradient
# is 0 and a gradient step cannot change them; the article moves them all the same. The
# derivation of `dE/dW11`, as Markdown:

# %%
d.explanation("W11")  # shown as Markdown tables (LaTeX where Markdown is not shown)

# %% [markdown]
# ## Training on all four samples
#
# The article stops after one sample. Here the same 2-3-1 identity network, from the same
# all-ones start, is trained on the whole truth table by batch gradient descent with the
# article's learning rate, on the mean of the four samples' half squared errors.

# %%
XOR = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
targets = [t for _, t in XOR]


def predict(model):
    """Return the model's output for each XOR input."""
    return [model(x)[0].data for x, _ in XOR]


def train(model, steps, lr, momentum=0.0):
    """Train on all four samples at once; return the loss before each step."""
    opt = nn.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(steps):
        loss = nn.half_squared_error([model(x)[0] for x, _ in XOR], targets) / len(XOR)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.data)
    return history


d.reset()
linear = d.network
linear_losses = train(linear, 300, d.learning_rate)
print(f"identity network: mean loss {linear_losses[0]:.6g} -> {linear_losses[-1]:.6g}")
print("predictions", [round(p, 4) for p in predict(linear)], "targets", targets)


# %% [markdown]
# The loss stops falling and every prediction sits near one half. That is as good as it gets:
# with the identity activation the whole network computes an affine function
# `a * x1 + b * x2 + c`, and for any such function
# `f(0,0) - f(0,1) - f(1,0) + f(1,1)` is 0, whereas for XOR's targets it is -2. The four errors
# must make up that difference, and spreading it evenly is the cheapest way to do so, which
# gives a floor under the mean loss:

# %%
def interaction(values):
    """Return f(0,0) - f(0,1) - f(1,0) + f(1,1) for values in XOR's input order."""
    return values[0] - values[1] - values[2] + values[3]


floor = 0.5 * (interaction(targets) / len(XOR)) ** 2  # each error off by a quarter of the gap
print(f"interaction of the targets {interaction(targets):g}, of the trained network "
      f"{interaction(predict(linear)):.1e}")
print(f"lowest mean loss any affine function can reach {floor:g}; reached {linear_losses[-1]:.6g}")
hidden = [[w.data for w in n.w] + [n.b.data] for n in linear.layers[0].neurons]
print("hidden units' weights (from X1, from X2, bias):")
for n, ws in zip(d.layers[1], hidden):
    print(f"  {n}: {', '.join(f'{w:.6f}' for w in ws)}")
d.reset()

# %% [markdown]
# The three hidden units also end exactly alike. They started alike and, on every sample,
# receive the same gradient, so no amount of training tells them apart: the symmetry has to be
# broken by the initial weights.
#
# ## A network that can learn XOR
#
# The same shape with `tanh` in the hidden layer and a sigmoid at the output, random initial
# weights (fixed seed), the same loss, a larger learning rate with momentum:

# %%
model = nn.MLP(2, [3, 1], activation=["tanh", "sigmoid"], seed=0)
nonlinear_losses = train(model, 1000, lr=1.0, momentum=0.9)
print(f"tanh/sigmoid network: mean loss {nonlinear_losses[0]:.6g} -> {nonlinear_losses[-1]:.3g}")
print("predictions", [round(p, 4) for p in predict(model)], "targets", targets)
print(f"interaction {interaction(predict(model)):.4f}")
print("rounded predictions right:", [round(p) for p in predict(model)] == targets)

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.semilogy(linear_losses, label="identity, all weights 1, lr 0.1")
ax.semilogy(nonlinear_losses, label="tanh / sigmoid, random start, lr 1, momentum 0.9")
ax.axhline(floor, color="grey", linestyle=":", linewidth=1, label="floor for any affine function")
ax.set_xlabel("gradient-descent steps (all four samples)")
ax.set_ylabel("mean half squared error")
ax.set_title("XOR: a linear network plateaus, a nonlinear one learns")
ax.legend(fontsize=8)
show(fig)

# %%
model

# %% [markdown]
# And the same tanh/sigmoid network started from all ones, as in the article: the hidden units
# stay identical, so it acts like a network with one hidden unit and does not learn XOR.

# %%
stuck = nn.MLP(2, [3, 1], activation=["tanh", "sigmoid"], seed=0)
for p in stuck.parameters():
    p.data = 1.0
stuck_losses = train(stuck, 1000, lr=1.0, momentum=0.9)
print(f"mean loss {stuck_losses[0]:.6g} -> {stuck_losses[-1]:.6g}")
print("predictions", [round(p, 4) for p in predict(stuck)], "targets", targets)
units = {(tuple(w.data for w in n.w), n.b.data) for n in stuck.layers[0].neurons}
print("hidden units identical:", len(units) == 1)
