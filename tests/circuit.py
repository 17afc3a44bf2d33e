"""The shipped circuit f = (x + y) z (autograd_tiny/examples/circuit.toml) with other claims.

At x = -2, y = 5, z = -4: q = 3, f = -12, df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = -4.
"""

from __future__ import annotations

from autograd_tiny.derivation import example_text


def circuit_file(title: str, claims: str) -> str:
    """Return the circuit's file with ``title`` and the claims ``claims`` (TOML lines)."""
    text = example_text("circuit")
    text = text[: text.index("[claims]")].replace('title = "Circuit f = (x + y) z"', f'title = "{title}"')
    return text + "[claims]\n" + claims
