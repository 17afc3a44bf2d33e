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
    ("circuit", None, 18, 18),
    ("sigmoid_neuron", None, 32, 26),
    ("seed004", 40, 40, 34),
    ("seed002_batch", 25, 25, 25),
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


def test_each_family_is_hinted_in_its_own_words_on_expression_files() -> None:
    # The same rules that name a network's slips (tests/test_worksheet.py plants every one into a
    # 2-2-2 answer key) name an expression file's: f = (x + y) z and the 2-D sigmoid neuron.
    outcomes = plant("circuit") + plant("sigmoid_neuron")
    own = {o.rule.split(":")[0] for o in outcomes if o.hinted}
    assert {"mul", "upstream", "sign", "half-missing", "two-missing", "neighbour", "term-left-out",
            "sigmoid", "twice"} <= own, sorted(own)
    assert all(o.located for o in outcomes)
