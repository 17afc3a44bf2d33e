"""The names ``autograd_tiny`` exports, and what they are."""

from __future__ import annotations

import builtins

import autograd_tiny


def test_every_name_in_all_exists_and_compile_is_left_out() -> None:
    for name in autograd_tiny.__all__:
        assert hasattr(autograd_tiny, name), name
    # compile() is exported but kept out of __all__, so `import *` leaves Python's builtin alone
    assert "compile" not in autograd_tiny.__all__
    namespace: dict[str, object] = {}
    exec("from autograd_tiny import *", namespace)  # noqa: S102 - a fixed statement
    assert "compile" not in namespace and builtins.compile is compile
    assert autograd_tiny.compile is not builtins.compile


def test_explain_gradient_at_the_top_level_explains_a_product() -> None:
    # f = w * x at w = 3, x = 2: df/dw = x = 2, and w+ = 3 - 0.5 * 2 = 2 with learning rate 0.5
    w, x = autograd_tiny.Value(3.0, "w"), autograd_tiny.Value(2.0, "x")
    f = w * x
    f.label = "f"
    text = autograd_tiny.explain_gradient(f, "w", learning_rate=0.5)
    assert "df/dw = x = 2" in text
    assert "w+ = w - lr * df/dw = 3 - 0.5 * 2 = 2" in text
