"""The planting generator (tests/planting.py) on shipped examples: every applicable misconception,
made once with every later figure carried, is located as the first slip, and most get a hint.

The full table over every shipped example (``python tests/planting.py``, about 4 minutes) is
quoted in the documentation; here a sample of it keeps the suite quick: the two circuits whole,
the first planted slips of the 2-2-2 network (seed 004) and of the XOR batch (seed 002)."""

from __future__ import annotations

import pytest
from planting import plant, table


@pytest.mark.parametrize(("example", "limit", "located", "hinted"), [
    # (example, how many plantings, at least located, at least hinted in any words)
    ("circuit", None, 12, 11),
    ("sigmoid_neuron", None, 32, 18),
    ("seed004", 40, 40, 33),
    ("seed002_batch", 25, 25, 23),
])
def test_planted_slips_are_located_and_hinted(example: str, limit: int | None, located: int,
                                              hinted: int) -> None:
    c = table(plant(example, limit))
    assert c["located"] >= located, c
    assert c["hinted"] + c["other words"] >= hinted, c


def test_the_circuit_slips_are_hinted_in_their_own_words() -> None:
    outcomes = plant("circuit")
    own = {o.rule for o in outcomes if o.hinted}
    # f = (x + y) z: the product's own factor, the upstream gradient, the number rules.
    assert {"mul:x", "mul:y", "upstream", "sign"} <= own, [(o.rule, o.hint) for o in outcomes]
