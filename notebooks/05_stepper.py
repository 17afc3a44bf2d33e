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
# # Backpropagation, one step at a time
#
# `autograd_tiny.to_html(value_or_derivation, path=None)` turns a graph of Values, or a
# derivation file's network, into an HTML page that steps through the computation: the
# forward pass node by node, then the backward pass, each local derivative and each
# gradient as it is accumulated. In Jupyter the object it returns shows itself inline; with
# `path` the same page is written to a file that any browser opens.

# %%
import tempfile
from pathlib import Path

import autograd_tiny as at
from autograd_tiny.derivation import load_example

# %% [markdown]
# ## A small expression
#
# The expression of the engine notebook: `a` is used twice, so its gradient is the sum of
# two paths, and the stepper shows both contributions arriving.

# %%
a = at.Value(2.0, label="a")
b = at.Value(-3.0, label="b")
c = a * b
c.label = "c"
d = c + a.exp()
d.label = "d"
d.backward()
print(f"d = {d.data:.6f}   dd/da = {a.grad:.6f}   dd/db = {b.grad:.6f}")

# %%
at.to_html(d)

# %% [markdown]
# ## A network from a derivation file
#
# The 2-2-2 sigmoid network of the `seed004` example (inputs 0.05 and 0.10, targets 0.01
# and 0.99): every net input, output, loss term and gradient of its first step.

# %%
net = load_example("seed004")
at.to_html(net)

# %% [markdown]
# ## As a file
#
# With `path` the page is also written to disk (here into a temporary folder).

# %%
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "seed004_stepper.html"
    page = at.to_html(net, path=path)
    text = path.read_text(encoding="utf-8")
    print(f"wrote {path.name}: {len(text):,} characters of HTML; shown inline too: "
          f"{hasattr(page, '_repr_html_')}")
