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
# # The engine: a scalar that remembers how it was made
#
# Every `Value` holds a number (`data`), the operation that produced it and the Values it
# came from. An expression therefore builds a graph, and `backward()` walks that graph from
# the result back to the inputs, multiplying local derivatives along every path (the chain
# rule) and adding up the paths that meet.

# %%
import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.functional import local_derivatives
from autograd_tiny.ops import OPS

# %%
a = at.Value(2.0, label="a")
b = at.Value(-3.0, label="b")
c = a * b
c.label = "c"
d = c + a.exp()
d.label = "d"
d.backward()
print(f"d = {d.data:.6f}   dd/da = {a.grad:.6f}   dd/db = {b.grad:.6f}")

# %% [markdown]
# `a` is used twice (in `a * b` and in `exp(a)`), so its gradient is the sum of two paths.
# The graph, with data and gradient at every node:

# %%
d


# %% [markdown]
# Nothing above was derived by hand, and the check below does not derive anything either:
# central differences `(f(x + h) - f(x - h)) / 2h` only evaluate the expression.

# %%
def expression(a, b):
    return a * b + a.exp()


def central(f, x, h=1e-6):
    """Return the central difference of f at x."""
    return (f(x + h) - f(x - h)) / (2 * h)


fd_a = central(lambda x: expression(at.Value(x), at.Value(b.data)).data, a.data)
fd_b = central(lambda x: expression(at.Value(a.data), at.Value(x)).data, b.data)
print(f"dd/da: backward {a.grad:.9f}, central difference {fd_a:.9f}")
print(f"dd/db: backward {b.grad:.9f}, central difference {fd_b:.9f}")

# %% [markdown]
# ## Inside a node
#
# A Value made by an operation knows its `op` (an entry of the table), its `parents` and its
# `operands` (the parents, with plain numbers in place: `c * 2` has one parent and two
# operands). `local_derivatives(node)` evaluates the table's derivative expressions for that
# node; `topological_order(root)` lists the graph inputs first.

# %%
scaled = c * 2
print(f"c * 2: op {scaled.op.name}, parents {[p.label for p in scaled.parents]}, operands "
      f"{[o.label if isinstance(o, at.Value) else o for o in scaled.operands]}")
print()
for node in at.topological_order(d):
    if node.is_leaf:
        print(f"{node.label:12} leaf, data {node.data:g}")
        continue
    local = ", ".join(f"{float(x):.6g}" for x in local_derivatives(node))
    names = ", ".join(p.label or "(unlabelled)" for p in node.parents)
    print(f"{node.label or '(unlabelled)':12} {node.op.name:4} of {names:16} local derivatives {local}")

# %% [markdown]
# ## Where the derivatives come from
#
# Each primitive's forward computation and local derivative are written once, as a small
# expression over its inputs `x`, `y` and its result `out`. The backward pass, `grad()`, the
# explanations and the compiler all read this one table.

# %%
for op in OPS.values():
    print(f"{op.name:8} out = {op.forward:24} d out/d inputs = {', '.join(op.derivatives)}")

# %% [markdown]
# ## Second derivatives with `grad(..., create_graph=True)`
#
# With `create_graph=True` the gradients are Values in a new graph, so they can be
# differentiated again. Here the first and second derivatives of `tanh` come from its one
# table entry, and central differences (of the function, then of the first derivative)
# confirm both.

# %%
x = at.Value(0.5, label="x")
y = x.tanh()
(dy,) = at.grad(y, [x], create_graph=True)
(d2y,) = at.grad(dy, [x])


def slope(u):
    """Return d tanh/dx at u, from the engine."""
    leaf = at.Value(u)
    (g,) = at.grad(leaf.tanh(), [leaf])
    return g.data


print("tanh in the table: d out/dx =", OPS["tanh"].derivatives[0])
fd_dy = central(lambda u: at.Value(u).tanh().data, x.data)
print(f"dy/dx   = {dy.data:.10f}   central difference {fd_dy:.10f}")
print(f"d2y/dx2 = {d2y.data:.10f}   central difference {central(slope, x.data):.10f}")


# %% [markdown]
# ## Checking gradients against finite differences
#
# `gradcheck` does the same for a whole function of several inputs and reports the relative
# error of each gradient.

# %%
def f(p, q):
    return (p * q).sigmoid() + p ** 3 / q - (p - q).tanh()


result = at.gradcheck(f, [0.7, -1.3])
print(result.ok, [f"{e:.1e}" for e in result.relative_errors])

# %% [markdown]
# And against PyTorch in float64, when it is installed:

# %%
p, q = at.Value(0.7), at.Value(-1.3)
f(p, q).backward()
try:
    import torch
except ImportError:
    print("PyTorch is not installed: comparison skipped")
else:
    tp = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    tq = torch.tensor(-1.3, dtype=torch.float64, requires_grad=True)
    ((tp * tq).sigmoid() + tp ** 3 / tq - (tp - tq).tanh()).backward()
    print(f"df/dp: autograd-tiny {p.grad:.15f}   PyTorch {tp.grad.item():.15f}")
    print(f"df/dq: autograd-tiny {q.grad:.15f}   PyTorch {tq.grad.item():.15f}")

# %% [markdown]
# ## `compile()`: the same graph as straight-line Python
#
# When a computation keeps its shape (one training step, say), `compile()` walks the graph
# once and writes a forward function (one assignment per node) and a backward function (one
# line per chain-rule product). Every line is generated from the same table.

# %%
w = at.Value(0.5, label="w")
u = at.Value(2.0, label="u")
z = (w * u + 1).tanh()
z.label = "z"
compiled = at.compile(z, source=True)  # keep the generated source to read it
print(compiled)
print(compiled.source)

# %% [markdown]
# The compiled code reads the leaves' current `data`, so it can be re-run on new numbers; it
# gives the same bits as building the graph again and calling `backward()`:

# %%
u.data = -1.0
w.grad = u.grad = 0.0
value = compiled()
compiled.backward()
fast = (w.grad, u.grad)

w.grad = u.grad = 0.0
eager = (w * u + 1).tanh()
eager.backward()
print(f"z:     compiled {value!r}, eager {eager.data!r}")
print(f"grads: compiled {fast}, eager {(w.grad, u.grad)}")
print("identical:", value == eager.data and fast == (w.grad, u.grad))

# %% [markdown]
# ## `no_grad()`: numbers without a graph
#
# Inside `no_grad()` operations compute their result but record nothing, which is what an
# evaluation needs.

# %%
with at.no_grad():
    plain = w * u + 1
print(plain.data, "leaf:", plain.is_leaf, "parents:", plain.parents)

# %% [markdown]
# ## Numbers at the edges
#
# Where Python's `math` would raise, the engine returns what IEEE 754 arithmetic (and
# PyTorch's float64) returns.

# %%
for expr, v in [
    ("sigmoid(-1000)", at.Value(-1000.0).sigmoid()),
    ("sigmoid(1000)", at.Value(1000.0).sigmoid()),
    ("exp(1000)", at.Value(1000.0).exp()),
    ("log(0)", at.Value(0.0).log()),
    ("1 / 0", at.Value(1.0) / 0),
    ("0 / 0", at.Value(0.0) / 0),
]:
    print(f"{expr:15} = {v.data}")

# %% [markdown]
# ## Training: XOR with a 2-4-1 network
#
# The same engine trains a small network. Nothing in `autograd_tiny.nn` knows a derivative:
# neurons are sums of products passed through an activation, and `backward()` does the rest.

# %%
data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
model = nn.MLP(2, [4, 1], activation=["tanh", "sigmoid"], seed=1)
opt = nn.SGD(model.parameters(), lr=0.5, momentum=0.9)
losses = []
for step in range(500):
    outs = [model(x)[0] for x, _ in data]
    loss = nn.binary_cross_entropy(outs, [t for _, t in data])
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.data)
predictions = [round(model(x)[0].data, 3) for x, _ in data]
print("loss", f"{losses[0]:.4f} -> {losses[-1]:.4f}", "predictions", predictions)

# %% [markdown]
# `nn.train` runs this loop for you: it prints the loss every `every` steps as it goes, shows
# a progress bar (turned off here, so that the notebook's output stays the same on every run)
# and, with `plot=True`, draws the loss curve, redrawn while it trains. From the same seed it
# takes exactly the same steps:

# %%
model = nn.MLP(2, [4, 1], activation=["tanh", "sigmoid"], seed=1)
history = nn.train(model, data, nn.binary_cross_entropy, nn.SGD(model.parameters(), lr=0.5, momentum=0.9),
                   500, every=100, plot=True, progress=False, title="XOR, 2-4-1 network: binary cross-entropy")
print("the same losses as the loop above:", history.losses[:-1] == losses)

# %% [markdown]
# The trained network, drawn with its weights:

# %%
model
