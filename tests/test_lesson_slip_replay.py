"""The lesson page's "your numbers": a wrong claim with a hint replayed through the step.

The numbers come from the checker's own interpreter (autograd_tiny/html/slips.py); the
page shows them beside the true ones from the claim's step on. Checked in Python (which
claims get a replay, and that it reproduces the written figure) and in headless Chromium
(the figure shown is the student's, the numbers carried forward are the ones a hand
derivation carries, nothing shows before the slip's step or after a leaf is edited).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autograd_tiny import to_html
from autograd_tiny.derivation import example_text, load_derivation, load_example
from autograd_tiny.derivation.checker import matches
from autograd_tiny.html.slips import slip_numbers
from autograd_tiny.value import topological_order

#: seed004 with dE/dout_h1 written as a student who left out the path through o2 would:
#: the misconception changes the backward pass, and its slipped pass is replayed.
_SEED004 = example_text("seed004")
DROP_PATH = _SEED004[:_SEED004.index("[claims]")] + '[claims]\n"dE/dout_h1" = 0.0553994\n'


def _replays(derivation: Any) -> tuple[dict[int, dict[str, Any]], list[Any], list[Any]]:
    results = derivation.check()
    topo = topological_order(derivation.loss())
    return slip_numbers(derivation, list(results), topo, dict(derivation.parameters)), list(results), topo


def _claims_of(derivation: Any) -> list[Any]:
    return list(derivation.spec.claims)


def test_only_hinted_slips_of_the_first_step_are_replayed() -> None:
    derivation = load_example("seed002")
    replays, results, _ = _replays(derivation)
    named = {results[k].claim for k in replays}
    assert named == {"W10+", "V00+", "V01+"}  # W11+'s hint is a fact (its input is 0): no slip
    seed003 = load_example("seed003")
    replays3, results3, _ = _replays(seed003)
    assert all(results3[k].hint for k in replays3)
    assert "net_o1" not in {results3[k].claim for k in replays3}  # wrong, but no hint


@pytest.mark.parametrize("source", ["seed002", "seed002_batch", "drop-path"])
def test_the_replayed_figure_is_the_written_one(source: str) -> None:
    derivation = load_derivation(DROP_PATH) if source == "drop-path" else load_example(source)
    replays, results, _ = _replays(derivation)
    assert replays
    claims = _claims_of(derivation)
    for k, entry in replays.items():
        assert matches(claims[k], entry["figure"]), (results[k].claim, entry["figure"], results[k].written)
        assert not matches(claims[k], results[k].computed)


def test_a_slipped_backward_pass_carries_to_every_gradient_below_it() -> None:
    derivation = load_derivation(DROP_PATH)
    replays, results, topo = _replays(derivation)
    (entry,) = replays.values()
    assert results[0].hint.startswith("dE/dout_h1 leaves out one of the 2 paths")
    grads = {topo[i].label: v for i, v in entry["grad"] if topo[i].label}
    assert set(grads) >= {"out_h1", "net_h1", "w1", "w2", "b1"}
    assert "out_h2" not in grads and "w5" not in grads and not entry["data"]  # the forward pass stands
    lr = derivation.learning_rate
    updates = {topo[i].label: v for i, v in entry["update"]}
    assert updates["w1"] == pytest.approx(0.15 - lr * grads["w1"], rel=1e-12)
    # the one path through o1 alone: dE/dnet_o1 * w5
    loss = derivation.loss()
    loss.backward()
    net_o1 = next(v for v in topological_order(loss) if v.label == "net_o1")
    assert grads["out_h1"] == pytest.approx(net_o1.grad * derivation.parameters["w5"].data, rel=1e-12)


# -- in the browser -------------------------------------------------------------------------------

def _open(driver: Any, derivation: Any, path: Path, size: tuple[int, int] = (1280, 800)) -> None:
    to_html(derivation).write(path)
    driver.get("about:blank")
    driver.set_window_size(*size)
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.body.dataset.ready") == "1"
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors


def _go(driver: Any, step: int) -> None:
    driver.execute_script("""
        const s = document.getElementById('step');
        s.value = String(arguments[0]);
        s.dispatchEvent(new Event('input'));""", step)


def _claim(driver: Any, name: str) -> dict[str, Any]:
    return driver.execute_script("""
        const D = JSON.parse(document.getElementById('stepper-data').textContent);
        return D.claims.find(c => c.name === arguments[0]);""", name)


def _toggle(driver: Any, name: str) -> None:
    driver.execute_script("""
        const b = Array.from(document.querySelectorAll('#claims button.yours-btn'))
          .find(b => b.dataset.claim === arguments[0]);
        b.click();""", name)


def _shown(driver: Any) -> dict[str, Any]:
    return driver.execute_script("""
        const fig = document.getElementById('yours-figure');
        const step = document.getElementById('yours-step');
        return {figure: fig ? fig.dataset.value : null, step: step ? step.textContent : null,
                net: Array.from(document.querySelectorAll('#net-view text'))
                       .filter(t => t.querySelector('tspan.yours')).map(t => t.textContent),
                values: Array.from(document.querySelectorAll('#values tbody tr'))
                          .filter(tr => tr.querySelector('.yours'))
                          .map(tr => [tr.dataset.name, tr.querySelector('td.data').textContent,
                                      tr.querySelector('td.grad').textContent]),
                loss: document.getElementById('loss-yours').textContent};""")


def test_seed002_batch_your_numbers_follow_the_flipped_delta(chromium: Any, tmp_path: Path) -> None:
    derivation = load_example("seed002_batch")
    _open(chromium, derivation, tmp_path / "seed002_batch.html")
    slip = _claim(chromium, "dE/dnet_D0[1]")
    carried = _claim(chromium, "dE/dnet_Z1[1]")
    assert slip["yours"] and "yours" not in carried  # a figure that follows has no slip of its own
    _go(chromium, slip["step"])
    _toggle(chromium, "dE/dnet_D0[1]")
    shown = _shown(chromium)
    written = next(c for c in derivation.spec.claims if c.name == "dE/dnet_D0[1]")
    assert float(shown["figure"]) == written.value == -4  # the student's figure, from the file
    assert matches(written, float(shown["figure"]))
    # dE/dnet_D0[1] of the batch's mean loss is the sample's times 1/4: the page's node shows -1
    assert shown["step"].rstrip().endswith("= 0.25 * 4 = -1")
    assert any(t.startswith("dE/dnet 1.0000") and t.endswith("yours -1.0000") for t in shown["net"])
    assert ["net_D0[1]", "4", "1 yours -1"] in shown["values"]
    # the next step carries it: dE/dnet_Z1[1] = dE/dnet_D0[1] * V01, the student's -4 (follows)
    _go(chromium, carried["step"])
    shown = _shown(chromium)
    assert shown["step"].splitlines()[-1].strip() == "= (-1) * 1 = -1"
    z1 = next(c for c in derivation.spec.claims if c.name == "dE/dnet_Z1[1]")
    assert matches(z1, -1 / 0.25)
    assert ["net_Z1[1]", "1", "1 yours -1"] in shown["values"]
    # before the slip's step nothing of it shows
    _go(chromium, slip["step"] - 1)
    shown = _shown(chromium)
    assert shown["figure"] is None and shown["step"] is None and not shown["net"] and not shown["values"]
    # at the end: the updates made with the slipped gradients (W10+ = 1 - 0.1 * 4.5)
    last = int(chromium.find_element("id", "step").get_attribute("max"))
    _go(chromium, last)
    values = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#net-view text'))
          .filter(t => t.querySelector('tspan.yours')).map(t => t.textContent);""")
    assert any(t.startswith("W10+ = 0.3500") and t.endswith("yours 0.5500") for t in values), values
    # off again
    _toggle(chromium, "dE/dnet_D0[1]")
    assert not _shown(chromium)["net"]


def test_seed002_update_slip_and_an_edited_leaf(chromium: Any, tmp_path: Path) -> None:
    derivation = load_example("seed002")
    _open(chromium, derivation, tmp_path / "seed002.html", (800, 900))
    c = _claim(chromium, "W10+")
    assert "yours" not in _claim(chromium, "W11+")  # a fact: no slip to replay
    _go(chromium, c["step"])
    _toggle(chromium, "W10+")
    shown = _shown(chromium)
    written = next(x for x in derivation.spec.claims if x.name == "W10+")
    assert float(shown["figure"]) == written.value == 1.4
    assert shown["step"].rstrip().endswith("= 1.4")
    assert any(t.startswith("W10+ = 0.6000") and t.endswith("yours 1.4000") for t in shown["net"]), shown
    leaf = chromium.find_element("css selector", "#leaves input")
    leaf.clear()
    leaf.send_keys("0.5")
    shown = _shown(chromium)
    assert shown["figure"] is None and not shown["net"]  # the replay was of the file's numbers
    chromium.find_element("id", "btn-reset").click()
    assert _shown(chromium)["figure"] is not None


def test_a_dropped_path_shows_below_the_slip(chromium: Any, tmp_path: Path) -> None:
    derivation = load_derivation(DROP_PATH)
    _open(chromium, derivation, tmp_path / "drop.html")
    c = _claim(chromium, "dE/dout_h1")
    _go(chromium, c["step"])
    _toggle(chromium, "dE/dout_h1")
    shown = _shown(chromium)
    written = next(x for x in derivation.spec.claims if x.name == "dE/dout_h1")
    assert matches(written, float(shown["figure"]))
    last = int(chromium.find_element("id", "step").get_attribute("max"))
    _go(chromium, last)
    rows = {r[0]: r for r in _shown(chromium)["values"]}
    assert set(rows) >= {"out_h1", "net_h1", "w1", "w2", "b1"} and "out_h2" not in rows
