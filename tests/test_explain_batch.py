"""The path form of a batch derivation: a sum over the samples, each path ending at the weight.

A batch computes every sample from its own copy of each weight (``W10[s] = W10 * 1``).
The explanation names the weight, not the copy: no factor ``dW10[1]/dW10 = 1``; the
derivative is written as the sum over the samples of each sample's gradient, and its
number is PyTorch's.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tiny.derivation import example_names, load_derivation, load_example
from autograd_tiny.explain import explain, explain_gradient, gradient_paths, sample_copy
from autograd_tiny.explain_delta import explain_delta_structure

ROOT = Path(__file__).resolve().parents[1]

#: xor_each.toml as a mean batch with a second output, so each sample has two paths to w1.
TWO_OUTPUTS = """
activation = "sigmoid"
loss = "half_squared_error"
learning_rate = 0.5
update_biases = true
batch = "mean"
layers = [["x1", "x2"], ["h1", "h2"], ["y", "z"]]
[[samples]]
inputs = { x1 = 0.0, x2 = 1.0 }
targets = { y = 1.0, z = 0.0 }
[[samples]]
inputs = { x1 = 1.0, x2 = 1.0 }
targets = { y = 0.0, z = 1.0 }
[[samples]]
inputs = { x1 = 0.5, x2 = -1.0 }
targets = { y = 1.0, z = 1.0 }
[weights]
w1 = ["x1", "h1", 0.5]
w2 = ["x2", "h1", -0.3]
w3 = ["x1", "h2", 0.2]
w4 = ["x2", "h2", 0.7]
w5 = ["h1", "y", -0.4]
w6 = ["h2", "y", 0.6]
w7 = ["h1", "z", 0.9]
w8 = ["h2", "z", -0.8]
[biases]
b1 = [0.1, "h1"]
b2 = [-0.2, "h2"]
b3 = [0.3, "y"]
b4 = [-0.1, "z"]
"""


def _torch_seed002_batch_grads() -> dict[str, float]:
    """dE/dP of seed002_batch.toml computed by PyTorch from the file's numbers alone."""
    torch = pytest.importorskip("torch")
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    W = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)   # W11 W12 / W21 W22 / W31 W32
    W0 = torch.ones(3, dtype=torch.float64, requires_grad=True)     # W10 W20 W30
    V = torch.ones(3, dtype=torch.float64, requires_grad=True)      # V01 V02 V03
    V0 = torch.ones((), dtype=torch.float64, requires_grad=True)    # V00
    z = x @ W.T + W0            # identity activation
    d = z @ V + V0
    E = (0.5 * (t - d) ** 2).mean()
    E.backward()
    assert W.grad is not None and W0.grad is not None and V.grad is not None and V0.grad is not None
    grads = {f"W{j + 1}{i + 1}": float(W.grad[j, i]) for j in range(3) for i in range(2)}
    grads |= {f"W{j + 1}0": float(W0.grad[j]) for j in range(3)}
    grads |= {f"V0{j + 1}": float(V.grad[j]) for j in range(3)}
    grads["V00"] = float(V0.grad)
    return grads


def test_seed002_batch_w10_is_a_sum_over_the_samples_naming_the_weight() -> None:
    derivation = load_example("seed002_batch")
    text = explain_gradient(derivation.loss(), "W10", learning_rate=derivation.learning_rate)
    assert "W10[" not in text and "dW10[1]/dW10" not in text
    assert text.startswith("dE/dW10 by the chain rule, summed over the batch: each of the 4 samples "
                           "computes with W10, so dE/dW10 is the sum of each sample's gradient")
    for s in range(1, 5):
        assert f"Path {s} (sample {s}): E -> E[{s}] -> net_D0[{s}] -> net_Z1[{s}] -> W10\n" in text
        assert re.search(rf"^  dnet_Z1\[{s}\]/dW10 +=  ?1$", text, re.M)
        assert re.search(rf"^  dnet_D0\[{s}\]/dnet_Z1\[{s}\] = V01 = 1$", text, re.M)  # the weight, too
    total = _torch_seed002_batch_grads()["W10"]
    assert total == 6.5
    assert "dE/dW10 = sample 1 + sample 2 + sample 3 + sample 4 = 1 + 1.5 + 1.5 + 2.5 = 6.5\n" in text
    assert "W10+ = W10 - lr * dE/dW10 = 1 - 0.1 * 6.5 = 0.35" in text


def test_every_parameter_of_seed002_batch_gets_pytorchs_gradient() -> None:
    derivation = load_example("seed002_batch")
    torch_grads = _torch_seed002_batch_grads()
    loss = derivation.loss()
    loss.backward()
    for name, p in derivation.parameters.items():
        e = explain(loss, name)
        assert math.isclose(e.gradient, torch_grads[name], rel_tol=1e-12, abs_tol=1e-12), name
        assert math.isclose(p.grad, torch_grads[name], rel_tol=1e-12, abs_tol=1e-12), name
        assert e.agrees
        assert [path.sample for path in e.paths] == [1, 2, 3, 4], name
        for path in e.paths:
            assert path.nodes[-1] == name and not any(n.startswith(name + "[") for n in path.nodes)
            assert all(f"{name}[" not in f.symbol + f.formula for f in path.factors)


def test_every_shipped_batch_example_names_its_weights_not_their_copies() -> None:
    batches = [e for e in example_names()
               if getattr(getattr(load_example(e), "spec", None), "batched", False)]
    assert "seed002_batch" in batches
    for example in batches:
        derivation = load_example(example)
        loss = derivation.loss()
        for name in derivation.parameters:
            paths = gradient_paths(loss, name)
            assert paths and all(p.sample is not None and p.nodes[-1] == name for p in paths), (example, name)
            for fmt in ("text", "markdown", "latex"):
                text = explain_gradient(loss, name, fmt=fmt)
                assert not re.search(rf"\b{re.escape(name)}\[\d", text), (example, name, fmt)


def test_a_sample_with_several_paths_adds_them_before_the_sum_over_samples() -> None:
    torch = pytest.importorskip("torch")
    derivation = load_derivation(TWO_OUTPUTS)
    loss = derivation.loss()
    e = explain(loss, "w1")
    assert [p.sample for p in e.paths] == [1, 1, 2, 2, 3, 3]
    text = e.render("text")
    parts = [math.fsum(p.value for p in e.paths if p.sample == s) for s in (1, 2, 3)]
    for s in (1, 2, 3):
        assert re.search(rf"^sample {s} = path {2 * s - 1} \+ path {2 * s} = .* = ", text, re.M)
    assert "dE/dw1 = sample 1 + sample 2 + sample 3 = " in text
    # PyTorch, from the file's numbers alone
    x = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.5, -1.0]], dtype=torch.float64)
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    w = torch.tensor([[0.5, -0.3], [0.2, 0.7]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.1, -0.2], dtype=torch.float64)
    v = torch.tensor([[-0.4, 0.6], [0.9, -0.8]], dtype=torch.float64)
    c = torch.tensor([0.3, -0.1], dtype=torch.float64)
    out = torch.sigmoid(torch.sigmoid(x @ w.T + b) @ v.T + c)
    (0.5 * (t - out) ** 2).sum(dim=1).mean().backward()
    assert w.grad is not None
    assert math.isclose(e.gradient, float(w.grad[0, 0]), rel_tol=1e-12)
    assert math.isclose(math.fsum(parts), float(w.grad[0, 0]), rel_tol=1e-12)
    assert e.agrees


def test_a_copy_explained_itself_and_the_delta_form_keep_the_sample() -> None:
    derivation = load_example("seed002_batch")
    loss = derivation.loss()
    text = explain_gradient(loss, "W10[2]")  # one sample's copy: its own derivative
    assert text.startswith("dE/dW10[2] by the chain rule: 1 path from E to W10[2]")
    assert "summed over the batch" not in text
    delta = explain_delta_structure(loss, "W10")
    assert [s.name for s in delta.steps if s.name.startswith("W10")] == [f"W10[{s}]" for s in range(1, 5)] \
        + ["W10"]
    assert math.isclose(delta.gradient, 6.5)


def test_sample_copy_is_only_a_labelled_product_with_one() -> None:
    from autograd_tiny import Value

    w = Value(2.0, "w")
    copy = w * 1.0
    copy.label = "w[3]"
    assert sample_copy(copy) == (w, 3)
    other = w * 2.0
    other.label = "w[3]"
    renamed = w * 1.0
    renamed.label = "v[3]"
    unlabelled = w * 1.0
    assert sample_copy(other) is None and sample_copy(renamed) is None and sample_copy(unlabelled) is None
    assert sample_copy(w) is None


def test_the_cli_and_the_docs_show_the_batch_as_a_sum_over_samples() -> None:
    done = subprocess.run([sys.executable, "-m", "autograd_tiny", "explain", "--example", "seed002_batch",
                           "W10"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "dW10[" not in done.stdout and "(sample 4)" in done.stdout
    docs = (ROOT / "docs" / "explain.md").read_text(encoding="utf-8")
    block = docs.split("$ autograd-tiny explain --example seed002_batch W10\n", 1)[1].split("```", 1)[0]
    assert block == done.stdout
