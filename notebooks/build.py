"""Write the notebooks of this folder from the cell sources below, then execute them.

Usage: ``python notebooks/build.py [NAME.ipynb ...]`` (all notebooks when no name is
given; needs the ``test`` extra: nbformat, nbclient, ipykernel, matplotlib).

The notebooks are committed with their outputs, and the test suite executes them
again with nbmake (``python -m pytest notebooks``). Every number in them comes from
the code when it runs: markdown cells describe, code cells compute and print. The
cells shared by the article notebooks are written once below and filled in per
example.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    return ("code", text.strip("\n"))


NOTEBOOKS: dict[str, list[Cell]] = {}

# -- cells shared by the notebooks ---------------------------------------------------------------

PLOT_SETUP = '''
import io

import matplotlib

matplotlib.use("Agg")  # draw off-screen; each figure is embedded below as a PNG
import matplotlib.pyplot as plt
from IPython.display import Image, Markdown, display


def show(fig):
    """Embed a matplotlib figure in the notebook as a PNG, then close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    display(Image(buf.getvalue()))
'''

ARTICLE_SETUP = PLOT_SETUP + '''

import textwrap

import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.derivation import format_text, load_example


def by_label(root):
    """Return the labelled Values of root's graph, by label."""
    return {v.label: v for v in at.topological_order(root) if v.label}
'''


def load_cells(name: str) -> list[Cell]:
    """The cell that loads a shipped example and prints its set-up."""
    return [code(f'''
d = load_example("{name}")
print(d.title)
print()


def line(head, items):
    print(textwrap.fill(", ".join(items), 100, initial_indent=f"{{head:9}}", subsequent_indent=" " * 9))


line("network", [" -> ".join(", ".join(layer) for layer in d.layers) + f" ({{', '.join(d.activations)}})"])
line("inputs", [f"{{n}} = {{x.data:g}}" for n, x in d.inputs.items()])
line("targets", [f"{{n}} = {{t:g}}" for n, t in d.targets.items()])
line("weights", [f"{{n}} = {{w.value:g}} ({{w.source}} -> {{w.target}})" for n, w in d.spec.weights.items()])
line("biases", [f"{{n}} = {{b.value:g}} (into {{' '.join(b.neurons)}})" for n, b in d.spec.biases.items()])
line("loss", [d.loss_name, f"learning rate {{d.learning_rate:g}}",
              "biases trained" if d.update_biases else "biases kept fixed"])
''')]


FORWARD = '''
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
    return (f"net_{n} = {' + '.join(symbols)}\\n"
            f"{'':{len(n) + 5}}= {' + '.join(numbers)} = {v['net_' + n].data:.9g}")


for layer, activation in zip(d.layers[1:], d.activations):
    for n in layer:
        print(net_sum(n))
        print(f"out_{n} = {activation}(net_{n}) = {out(n).data:.9g}")
'''

LOSS = '''
for n in d.layers[-1]:
    term = v.get(f"E_{n}", E)
    print(f"E_{n} = 1/2 ({d.targets[n]:g} - out_{n})^2 = 1/2 ({d.targets[n]:g} - {out(n).data:.9g})^2"
          f" = {term.data:.9g}")
print(f"E = {E.data:.9g}")
'''

BACKWARD = '''
E.backward()  # reverse mode: every parameter's grad is now dE/dparameter
print(f"{'param':6} {'value':>7}  {'dE/dparam':>16}  after one step (learning rate {d.learning_rate:g})")
for name, p in d.parameters.items():
    if d.spec.is_trainable(name):
        after = f"{p.data - d.learning_rate * p.grad:.9g}"
    else:
        after = f"{p.data:g} (kept fixed)"
    print(f"{name:6} {p.data:7g}  {p.grad:16.9g}  {after}")
'''

GRAPH = '''
at.draw_graph(E, params=d.parameters, inputs=d.input_names)
'''

NETWORK = '''
at.draw_network(d)
'''

FINITE_DIFFERENCES = '''
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
'''

CHECK = '''
results = d.check()
print(format_text(results, d.title))
'''


def explain_markdown(param: str) -> str:
    return f'''
display(Markdown(d.explain("{param}", "markdown")))
'''


TRAIN = '''
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
'''


def plot_losses(title: str, extra: str = "") -> str:
    return f'''
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.semilogy(losses, label="E")
ax.axhline(TOL, color="grey", linestyle=":", linewidth=1, label=f"{{TOL:g}}")
{extra}ax.set_xlabel("gradient-descent steps")
ax.set_ylabel("E (log scale)")
ax.set_title("{title}")
ax.legend()
show(fig)
d.reset()  # back to the file's numbers
'''


def pass_cells(backward_intro: str) -> list[Cell]:
    """Forward pass, loss, backward pass, pictures and the finite-difference check."""
    return [
        md("""
## Forward pass

`d.loss()` runs the network on the inputs with Values, so every number below is a node of
one graph. Each neuron adds up its weighted inputs and its bias (the net input `net_N`) and
passes the sum through the activation (the output `out_N`).
"""),
        code(FORWARD),
        md("""
## Loss

Half the squared error of each output, added up.
"""),
        code(LOSS),
        md(backward_intro),
        code(BACKWARD),
        md("""
The whole computation graph of `E` after `backward()`: every Value with its `data` and its
`grad` (dE/d that Value). Parameters are yellow, inputs blue, and the Values of each neuron
sit in a dashed box.
"""),
        code(GRAPH),
        md("""
The same gradients on the network diagram, as the articles draw it (weights on the edges,
biases as their own nodes):
"""),
        code(NETWORK),
        md("""
A check that does not trust the engine: nudge each parameter by a small `h` both ways and
take the central difference of the loss, `(E(p + h) - E(p - h)) / 2h`.
"""),
        code(FINITE_DIFFERENCES),
    ]


BACKWARD_INTRO = """
## Backward pass

`E.backward()` walks the graph from `E` back to the parameters, multiplying the local
derivatives of the operations (read from the table in `autograd_tiny/ops.py`) along every
path and adding the paths. No gradient below is typed in by hand.
"""

# -- 00: the engine ------------------------------------------------------------------------------

NOTEBOOKS["00_engine.ipynb"] = [
    md("""
# The engine: a scalar that remembers how it was made

Every `Value` holds a number (`data`), the operation that produced it and the Values it
came from. An expression therefore builds a graph, and `backward()` walks that graph from
the result back to the inputs, multiplying local derivatives along every path (the chain
rule) and adding up the paths that meet.
"""),
    code(PLOT_SETUP + '''

import autograd_tiny as at
from autograd_tiny import nn
from autograd_tiny.functional import local_derivatives
from autograd_tiny.ops import OPS
'''),
    code("""
a = at.Value(2.0, label="a")
b = at.Value(-3.0, label="b")
c = a * b
c.label = "c"
d = c + a.exp()
d.label = "d"
d.backward()
print(f"d = {d.data:.6f}   dd/da = {a.grad:.6f}   dd/db = {b.grad:.6f}")
"""),
    md("""
`a` is used twice (in `a * b` and in `exp(a)`), so its gradient is the sum of two paths.
The graph, with data and gradient at every node:
"""),
    code("""
d
"""),
    md("""
Nothing above was derived by hand, and the check below does not derive anything either:
central differences `(f(x + h) - f(x - h)) / 2h` only evaluate the expression.
"""),
    code("""
def expression(a, b):
    return a * b + a.exp()


def central(f, x, h=1e-6):
    \"\"\"Return the central difference of f at x.\"\"\"
    return (f(x + h) - f(x - h)) / (2 * h)


fd_a = central(lambda x: expression(at.Value(x), at.Value(b.data)).data, a.data)
fd_b = central(lambda x: expression(at.Value(a.data), at.Value(x)).data, b.data)
print(f"dd/da: backward {a.grad:.9f}, central difference {fd_a:.9f}")
print(f"dd/db: backward {b.grad:.9f}, central difference {fd_b:.9f}")
"""),
    md("""
## Inside a node

A Value made by an operation knows its `op` (an entry of the table), its `parents` and its
`operands` (the parents, with plain numbers in place: `c * 2` has one parent and two
operands). `local_derivatives(node)` evaluates the table's derivative expressions for that
node; `topological_order(root)` lists the graph inputs first.
"""),
    code("""
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
"""),
    md("""
## Where the derivatives come from

Each primitive's forward computation and local derivative are written once, as a small
expression over its inputs `x`, `y` and its result `out`. The backward pass, `grad()`, the
explanations and the compiler all read this one table.
"""),
    code("""
for op in OPS.values():
    print(f"{op.name:8} out = {op.forward:24} d out/d inputs = {', '.join(op.derivatives)}")
"""),
    md("""
## Second derivatives with `grad(..., create_graph=True)`

With `create_graph=True` the gradients are Values in a new graph, so they can be
differentiated again. Here the first and second derivatives of `tanh` come from its one
table entry, and central differences (of the function, then of the first derivative)
confirm both.
"""),
    code("""
x = at.Value(0.5, label="x")
y = x.tanh()
(dy,) = at.grad(y, [x], create_graph=True)
(d2y,) = at.grad(dy, [x])


def slope(u):
    \"\"\"Return d tanh/dx at u, from the engine.\"\"\"
    leaf = at.Value(u)
    (g,) = at.grad(leaf.tanh(), [leaf])
    return g.data


print("tanh in the table: d out/dx =", OPS["tanh"].derivatives[0])
fd_dy = central(lambda u: at.Value(u).tanh().data, x.data)
print(f"dy/dx   = {dy.data:.10f}   central difference {fd_dy:.10f}")
print(f"d2y/dx2 = {d2y.data:.10f}   central difference {central(slope, x.data):.10f}")
"""),
    md("""
## Checking gradients against finite differences

`gradcheck` does the same for a whole function of several inputs and reports the relative
error of each gradient.
"""),
    code("""
def f(p, q):
    return (p * q).sigmoid() + p ** 3 / q - (p - q).tanh()


result = at.gradcheck(f, [0.7, -1.3])
print(result.ok, [f"{e:.1e}" for e in result.relative_errors])
"""),
    md("""
And against PyTorch in float64, when it is installed:
"""),
    code("""
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
"""),
    md("""
## `compile()`: the same graph as straight-line Python

When a computation keeps its shape (one training step, say), `compile()` walks the graph
once and writes a forward function (one assignment per node) and a backward function (one
line per chain-rule product). Every line is generated from the same table.
"""),
    code("""
w = at.Value(0.5, label="w")
u = at.Value(2.0, label="u")
z = (w * u + 1).tanh()
z.label = "z"
compiled = at.compile(z)
print(compiled)
print(compiled.source)
"""),
    md("""
The compiled code reads the leaves' current `data`, so it can be re-run on new numbers; it
gives the same bits as building the graph again and calling `backward()`:
"""),
    code("""
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
"""),
    md("""
## `no_grad()`: numbers without a graph

Inside `no_grad()` operations compute their result but record nothing, which is what an
evaluation needs.
"""),
    code("""
with at.no_grad():
    plain = w * u + 1
print(plain.data, "leaf:", plain.is_leaf, "parents:", plain.parents)
"""),
    md("""
## Numbers at the edges

Where Python's `math` would raise, the engine returns what IEEE 754 arithmetic (and
PyTorch's float64) returns.
"""),
    code("""
for expr, v in [
    ("sigmoid(-1000)", at.Value(-1000.0).sigmoid()),
    ("sigmoid(1000)", at.Value(1000.0).sigmoid()),
    ("exp(1000)", at.Value(1000.0).exp()),
    ("log(0)", at.Value(0.0).log()),
    ("1 / 0", at.Value(1.0) / 0),
    ("0 / 0", at.Value(0.0) / 0),
]:
    print(f"{expr:15} = {v.data}")
"""),
    md("""
## Training: XOR with a 2-4-1 network

The same engine trains a small network. Nothing in `autograd_tiny.nn` knows a derivative:
neurons are sums of products passed through an activation, and `backward()` does the rest.
"""),
    code("""
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
"""),
    code("""
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses)
ax.set_xlabel("step")
ax.set_ylabel("binary cross-entropy")
ax.set_yscale("log")
show(fig)
"""),
    md("""
The trained network, drawn with its weights:
"""),
    code("""
model
"""),
]

# -- 01: the 2-2-1 network (seed 000) ------------------------------------------------------------

NOTEBOOKS["01_seed000_2-2-1.ipynb"] = [
    md("""
# A 2-2-1 network, one step of backpropagation (seed 000)

The article behind this notebook takes a network with two inputs, two hidden neurons
(`h1`, `h2`) and one output (`o`) through one step of backpropagation: sigmoid activations,
every bias value 1 (`b1` into the hidden neurons, `b2` into the output), half the squared
error against the target 0.99, learning rate 0.4, weights updated and biases left alone.
The backward pass uses the original `w5` and `w6`, not the updated ones.

Its inputs, weights and every intermediate figure were images, and they are lost. Of the
calculation, only three numbers survive in its text. This notebook first checks what can be checked from
those three numbers alone, then works through the same kind of network with numbers of
our own (the shipped example `seed000`).
"""),
    code(ARTICLE_SETUP),
    md("""
## What the article's text still states

The three figures and the set-up, exactly as the text gives them:
"""),
    code("""
from autograd_tiny.functional import local_derivatives

OUT_BEFORE = 0.37163015135768  # the output of the first forward pass
OUT_AFTER = 0.64623980051852  # the output after one step
DE_DW5 = -0.059693437674795  # dE/dw5 in the first backward pass
TARGET, LEARNING_RATE, BIAS = 0.99, 0.4, 1.0
"""),
    md("""
What can and cannot be checked:

| quantity | checkable? | why |
|---|---|---|
| `net_h1`, `out_h1`, ..., `net_o` of the first pass | no | they need the lost inputs and weights |
| the loss `E` before the step | computable | from the output and the target alone |
| `dE/dout_o`, `dout_o/dnet_o`, `dE/dnet_o` | computable | from the output alone |
| `dE/dw5` | partly | it equals `dE/dnet_o * out_h1`, so the `out_h1` it implies must lie in (0, 1) |
| `w1+` ... `w6+` | no | they need the lost weights |
| the output after the step | no | it needs every lost number; only the loss it implies can be computed |

The text does not state the loss, so the figures below are the engine's, not a check of the
article's arithmetic.
"""),
    md("""
### The output neuron, rebuilt from its output

The sigmoid's inverse gives the net input that produces the stated output. From that net
input the engine builds `out_o = sigmoid(net_o)` and `E = 1/2 (target - out_o)^2` as Values,
and `backward()` gives the derivatives; `local_derivatives` reads `dout_o/dnet_o` off the
table's sigmoid entry.
"""),
    code("""
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
"""),
    md("""
### The `out_h1` that `dE/dw5` implies

`net_o = w5 * out_h1 + w6 * out_h2 + b2`, so by the table's product rule `dnet_o/dw5 = out_h1`,
and `dE/dw5 = dE/dnet_o * out_h1`. Dividing the article's `dE/dw5` by `dE/dnet_o` gives the
hidden output it needs. A sigmoid output must lie strictly between 0 and 1.
"""),
    code("""
out_h1 = at.Value(DE_DW5) / net_o.grad
print(f"implied out_h1 = {out_h1.data:.12f}   possible sigmoid output: {0 < out_h1.data < 1}")
net_h1 = (out_h1 / (1 - out_h1)).log()
print(f"implied net_h1 = {net_h1.data:.12f}")
print(f"so w1 * i1 + w2 * i2 = net_h1 - b1 = {(net_h1 - BIAS).data:.12f}")
"""),
    md("""
The implied hidden output is a possible sigmoid output, and the net input it comes from is a
round number to about a dozen digits, which is what a hand-picked example gives: the stated
output and `dE/dw5` fit together. The sign fits too: the output is below the target, so
`dE/dnet_o` is negative and, with a positive `out_h1`, so is `dE/dw5`.

A round trip through the engine: put that `out_h1` into an output neuron whose net input is
the one found above, for two quite different values of `w5` (the rest of the net input is
whatever makes up the difference), and let `backward()` compute `dE/dw5`:
"""),
    code("""
for w5_value in (-0.9, 2.5):
    w5 = at.Value(w5_value, label="w5")
    h1 = at.Value(out_h1.data, label="out_h1")
    rest = at.Value(net_o.data - w5_value * h1.data, label="w6 * out_h2 + b2")
    loss = 0.5 * (TARGET - (w5 * h1 + rest).sigmoid()) ** 2
    loss.backward()
    print(f"w5 = {w5_value:5}: dE/dw5 = {w5.grad:.15f}   article {DE_DW5:.15f}   "
          f"difference {abs(w5.grad - DE_DW5):.1e}")
"""),
    md("""
### The output after the step

The stated output after the step does lower the loss. How much of the jump in the output's
net input could the output layer's own update explain? With the hidden outputs held where
they were, `w5` moves by `-lr * dE/dw5` (known) and `w6` by `-lr * dE/dnet_o * out_h2`, where
`out_h2` is unknown but below 1, so together they move `net_o` by less than
`-lr * dE/dnet_o * (out_h1^2 + 1)`.
"""),
    code("""
o_after = at.Value(OUT_AFTER)
E_after = 0.5 * (TARGET - o_after) ** 2
net_after = (o_after / (1 - o_after)).log()
print(f"E after the step = {E_after.data:.12f}   (before: {E0.data:.12f})")
needed = net_after - net_o.data
bound = -LEARNING_RATE * net_o.grad * (out_h1 * out_h1 + 1)
print(f"net_o must move by          {needed.data:.6f}")
print(f"w5 and w6 move it by under  {bound.data:.6f}   "
      f"(output then below {(net_o.data + bound).sigmoid().data:.6f})")
"""),
    md("""
So nearly all of the change has to come through the hidden layer, from the updates of `w1` to
`w4`, and how large that is depends on the lost inputs and weights (large inputs or a large
`w5` make it large). The output after the step can be neither confirmed nor refuted.

## The same network with numbers of our own

From here on the notebook uses the shipped example `seed000`: the article's set-up
(sigmoid, biases 1, target 0.99, learning rate 0.4, biases kept fixed) with inputs and
weights that we chose, because the article's are lost. None of the numbers below is the
article's.
"""),
    *load_cells("seed000"),
    code(NETWORK),
    *pass_cells(BACKWARD_INTRO),
    md("""
## The checker

The example's claims were computed by autograd-tiny itself (the article's figures cannot be
claims), so every verdict is `ok`: the table records the numbers a hand derivation of this
network should arrive at.
"""),
    code(CHECK),
    md("""
## The chain rule for `dE/dw1`, written out

`explain` follows every path from `E` down to a parameter through the named quantities and
multiplies the local derivatives along it; the formulas come from the table, the numbers
from the graph. A hidden weight has one path here, through `w5`:
"""),
    code(explain_markdown("w1")),
    md("""
## Training to convergence

The same step, repeated with the example's learning rate until the loss is tiny. With a
sigmoid output the target is approached but never reached, so the curve keeps falling.
"""),
    code(TRAIN),
    code(plot_losses("2-2-1 network (seed000): loss during training")),
]

# -- 02: the 2-2-2 network with the article's numbers (seed 003) ---------------------------------

NOTEBOOKS["02_seed003_2-2-2.ipynb"] = [
    md("""
# A 2-2-2 network, the article's own figures checked (seed 003)

This article works one step of backpropagation on a network with two inputs, two sigmoid
hidden neurons and two sigmoid outputs by hand, with every number written out: the forward
pass, the loss (half the squared error), the output-layer and hidden-layer gradients, an
update of `w1` with learning rate 0.5 and the loss after the step. It updates the weights
only; the biases (`b1` shared by the hidden neurons, `b2` by the outputs) stay fixed.

The shipped example `seed003` holds its numbers, its own weight names (`w4` runs from `x2`
to `h1`, `w3` from `x1` to `h2`) and, as claims, the figures it wrote down. The engine
computes the same quantities, and the checker says where the hand arithmetic slipped.
"""),
    code(ARTICLE_SETUP),
    *load_cells("seed003"),
    code(NETWORK),
    *pass_cells(BACKWARD_INTRO),
    md("""
## The checker on the article's figures

For each written figure the checker gives one of three verdicts:

* **ok**: it equals the engine's value to the precision it is written with (within one unit
  of its last digit);
* **follows**: it does not, but it equals the value recomputed from the article's own other
  figures: the slip was made earlier and carried forward correctly;
* **wrong**: neither; the slip is in this step. When the number matches a known kind of
  slip (a flipped sign, a factor 2, the wrong learning rate ...) the hint says so.
"""),
    code(CHECK),
    code("""
by_claim = {r.claim: r for r in results}
written = {r.claim: float(r.written) for r in results}
for r in results:
    if r.verdict != "ok":
        print(f"{r.claim:7} written {r.written:12} engine {r.computed:<14.9g} "
              f"from the article's other figures {r.recomputed:<14.9g} {r.verdict}")
        if r.hint:
            print(f"{'':8}{r.hint}")
"""),
    md("""
### The first slip: `net_o1`

The correct net input of `o1`, from the engine's numbers (its hidden outputs agree with the
article's to the digits written):
"""),
    code("""
print(net_sum("o1"))
print(f"the article writes net_o1 = {by_claim['net_o1'].written}")
"""),
    md("""
No simple slip gives the written `net_o1`, and the checker offers no hint. Everything that
uses it inherits the error: the article's sigmoid of its own `net_o1` is right, which is why
`out_o1` only *follows*:
"""),
    code("""
print(f"sigmoid(written net_o1) = {at.Value(written['net_o1']).sigmoid().data:.7f}   "
      f"written out_o1 = {written['out_o1']}")
print(f"sigmoid(written net_o2) = {at.Value(written['net_o2']).sigmoid().data:.7f}   "
      f"written out_o2 = {written['out_o2']}")
"""),
    md("""
`net_o2` is right to the digits the rounded hidden outputs allow, but the sigmoid of it is
not the written `out_o2`: a second, independent slip, in evaluating the sigmoid. The loss
follows from both. Recomputed from the article's own outputs with the library's loss:
"""),
    code("""
outs_written = [at.Value(written["out_o1"]), at.Value(written["out_o2"])]
E_written = nn.half_squared_error(outs_written, [d.targets["o1"], d.targets["o2"]])
print(f"E from the written outputs = {E_written.data:.8f}   written E = {written['E']}   "
      f"engine E = {E.data:.8f}")
"""),
    md("""
### `w1+`: the hidden-layer update

The written `w1+` is wrong even when it is recomputed from the article's own figures, so its
slip is in the gradient of `w1` itself. The derivation the article should have arrived at,
from `explain` (two paths, one through each output):
"""),
    code("""
print(d.explain("w1"))
"""),
    code("""
w1 = d.parameters["w1"].data
implied = (w1 - written["w1+"]) / d.learning_rate
print(f"dE/dw1 implied by the written w1+ = {implied:.6g}")
print(f"dE/dw1 by backward()              = {grads['w1']:.6g}   (ratio {implied / grads['w1']:.3f})")
"""),
    md("""
### `E+`: the loss after the step

The engine takes the step (all eight weights, learning rate 0.5, biases fixed) and runs the
forward pass again:
"""),
    code("""
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
"""),
    md("""
## The chain rule for `dE/dw5`, as Markdown

An output-layer weight has a single path, `E -> E_o1 -> out_o1 -> net_o1 -> w5`:
"""),
    code(explain_markdown("w5")),
    md("""
## Training to convergence

The article expects the loss to fall below 0.1 after thousands of steps. The engine trains
the network with the article's learning rate until the loss is tiny, and reports the step at
which the loss first fell below 0.1:
"""),
    code(TRAIN + '''
print(f"E < 0.1 after {next(k for k, e in enumerate(losses) if e < 0.1)} steps")
'''),
    code(plot_losses("2-2-2 network (seed003): loss during training",
                     'ax.axhline(0.1, color="tab:red", linestyle="--", linewidth=1, label="0.1")\n')),
]

# -- 03: the 2-2-2 network whose figures were images (seed 004) ----------------------------------

NOTEBOOKS["03_seed004_2-2-2.ipynb"] = [
    md("""
# A 2-2-2 network, one step and ten thousand (seed 004)

The second 2-2-2 article (two inputs, two hidden and two output neurons, two biases) walks
through the forward pass, the error, the gradient of the total error with respect to `w5`
as a product of three factors (`dE/dout_o1`, `dout_o1/dnet_o1`, `dnet_o1/dw5`) and the update of
`w5`, then says to repeat until the error is small. Its figures were images and are lost.

The shipped example `seed004` supplies the numbers of the network, and its claims were
computed by autograd-tiny (every verdict is `ok`); it adds a claim about the loss after
10,000 steps. This notebook follows the article's steps with those numbers.
"""),
    code(ARTICLE_SETUP),
    *load_cells("seed004"),
    code(NETWORK),
    *pass_cells(BACKWARD_INTRO),
    md("""
## The checker

The claims are the engine's own figures, written to ten significant digits, so the checker
confirms each of them: a record of the numbers a hand derivation of this network should
reach (the last one needs 10,000 training steps).
"""),
    code(CHECK),
    md("""
## `dE/dw5`, the article's worked gradient

The three factors the article multiplies, each with its formula from the table and its
number from the graph, and the update of `w5`:
"""),
    code(explain_markdown("w5")),
    md("""
A hidden-layer weight collects one path through each output:
"""),
    code("""
print(d.explain("w1"))
"""),
    md("""
## Training to convergence

Repeat the step until the loss is tiny, and compare the loss after 10,000 steps with the
example's claim `E@10000`:
"""),
    code(TRAIN + '''
claim = next(r for r in results if r.claim == "E@10000")
print(f"E after 10,000 steps: {losses[10_000]:.10g}   claim E@10000 = {claim.written} ({claim.verdict})")
'''),
    code(plot_losses("2-2-2 network (seed004): loss during training")),
]

# -- 04: XOR with identity activation (seed 002) -------------------------------------------------

NOTEBOOKS["04_seed002_xor.ipynb"] = [
    md("""
# XOR with an identity activation (seed 002)

The article sets out to learn XOR with two inputs, three hidden units and one output, the
identity as activation, every weight initialised to 1, a bias unit of value 1 feeding each
layer and learning rate 0.1. It works one step on the first sample, `(0, 0)` with target 0,
and finds every weight it updates at 1.4.

The shipped example `seed002` holds that network and the figures of that step. The weights
of the bias units (`W10`, `W20`, `W30` into the hidden units, `V00` into the output) are
modelled as biases of value 1 under the same names, and trained like the other weights.
`Wj1` comes from `X1` and `Wj2` from `X2` into hidden unit `Zj`; `V0j` goes from `Zj` to `D0`.
The article's error signal at the output is the target minus the output; half the squared
error, the loss used here, has the same difference with the opposite sign as its derivative.
"""),
    code(ARTICLE_SETUP),
    *load_cells("seed002"),
    code(NETWORK),
    *pass_cells(BACKWARD_INTRO),
    md("""
## The checker on the article's figures

The forward pass is right. The updates are not:
"""),
    code(CHECK),
    md("""
### A flipped sign

The article's error at the output is *target minus output*, and it updates
`W := W - alpha * Z * delta` with it. With the error taken that way round, gradient descent
has to *add* `alpha * Z * delta`; subtracting it moves every weight uphill. The engine's
`dE/dnet_D0` is *output minus target*:
"""),
    code("""
target = d.targets["D0"]
print(f"article's delta at D0 = target - output = {target - out('D0').data:g}")
print(f"engine's dE/dnet_D0   = {v['net_D0'].grad:g}")
print()
print(d.explain("W10"))
"""),
    md("""
The article's step makes the loss on this sample larger, the correct step makes it smaller:
"""),
    code("""
def loss_with(values):
    \"\"\"Return E on the sample with the parameters set to values (then put them back).\"\"\"
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
"""),
    md("""
### A weight whose input is 0

On the sample `(0, 0)` the weights out of `X1` and `X2` meet an input of 0, so their gradient
is 0 and a gradient step cannot change them; the article moves them all the same. The
derivation of `dE/dW11`, as Markdown:
"""),
    code(explain_markdown("W11")),
    md("""
## Training on all four samples

The article stops after one sample. Here the same 2-3-1 identity network, from the same
all-ones start, is trained on the whole truth table by batch gradient descent with the
article's learning rate, on the mean of the four samples' half squared errors.
"""),
    code("""
XOR = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
targets = [t for _, t in XOR]


def predict(model):
    \"\"\"Return the model's output for each XOR input.\"\"\"
    return [model(x)[0].data for x, _ in XOR]


def train(model, steps, lr, momentum=0.0):
    \"\"\"Train on all four samples at once; return the loss before each step.\"\"\"
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
"""),
    md("""
The loss stops falling and every prediction sits near one half. That is as good as it gets:
with the identity activation the whole network computes an affine function
`a * x1 + b * x2 + c`, and for any such function
`f(0,0) - f(0,1) - f(1,0) + f(1,1)` is 0, whereas for XOR's targets it is -2. The four errors
must make up that difference, and spreading it evenly is the cheapest way to do so, which
gives a floor under the mean loss:
"""),
    code("""
def interaction(values):
    \"\"\"Return f(0,0) - f(0,1) - f(1,0) + f(1,1) for values in XOR's input order.\"\"\"
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
"""),
    md("""
The three hidden units also end exactly alike. They started alike and, on every sample,
receive the same gradient, so no amount of training tells them apart: the symmetry has to be
broken by the initial weights.

## A network that can learn XOR

The same shape with `tanh` in the hidden layer and a sigmoid at the output, random initial
weights (fixed seed), the same loss, a larger learning rate with momentum:
"""),
    code("""
model = nn.MLP(2, [3, 1], activation=["tanh", "sigmoid"], seed=0)
nonlinear_losses = train(model, 1000, lr=1.0, momentum=0.9)
print(f"tanh/sigmoid network: mean loss {nonlinear_losses[0]:.6g} -> {nonlinear_losses[-1]:.3g}")
print("predictions", [round(p, 4) for p in predict(model)], "targets", targets)
print(f"interaction {interaction(predict(model)):.4f}")
print("rounded predictions right:", [round(p) for p in predict(model)] == targets)
"""),
    code("""
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.semilogy(linear_losses, label="identity, all weights 1, lr 0.1")
ax.semilogy(nonlinear_losses, label="tanh / sigmoid, random start, lr 1, momentum 0.9")
ax.axhline(floor, color="grey", linestyle=":", linewidth=1, label="floor for any affine function")
ax.set_xlabel("gradient-descent steps (all four samples)")
ax.set_ylabel("mean half squared error")
ax.set_title("XOR: a linear network plateaus, a nonlinear one learns")
ax.legend(fontsize=8)
show(fig)
"""),
    code("""
model
"""),
    md("""
And the same tanh/sigmoid network started from all ones, as in the article: the hidden units
stay identical, so it acts like a network with one hidden unit and does not learn XOR.
"""),
    code("""
stuck = nn.MLP(2, [3, 1], activation=["tanh", "sigmoid"], seed=0)
for p in stuck.parameters():
    p.data = 1.0
stuck_losses = train(stuck, 1000, lr=1.0, momentum=0.9)
print(f"mean loss {stuck_losses[0]:.6g} -> {stuck_losses[-1]:.6g}")
print("predictions", [round(p, 4) for p in predict(stuck)], "targets", targets)
units = {(tuple(w.data for w in n.w), n.b.data) for n in stuck.layers[0].neurons}
print("hidden units identical:", len(units) == 1)
"""),
]


_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _drop_addresses(nb: nbformat.NotebookNode) -> None:
    """Remove memory addresses from plain-text reprs, so that a rebuild changes no byte."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain")
            if text:
                output["data"]["text/plain"] = _ADDRESS.sub("", text)


def build(names: list[str]) -> None:
    unknown = [n for n in names if n not in NOTEBOOKS]
    if unknown:
        raise SystemExit(f"no notebook {', '.join(unknown)}; the notebooks are {', '.join(NOTEBOOKS)}")
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [
            nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
            for kind, src in cells
        ]
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i}"
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(HERE)}}).execute()
        _drop_addresses(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    build(sys.argv[1:])
