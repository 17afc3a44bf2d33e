"""The lesson page as a reader sees it, measured in headless Chromium: every shipped example and
a 2-8-8-1 MLP at a projector's and a small laptop's window size, the picture readable at load
(its text at least 11 CSS px, inside the pane, no two texts on top of each other), the claims
table keeping its verdict column, and each claim shown from the step that computes it on."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from autograd_tiny import Value, load_derivation, to_html
from autograd_tiny.derivation import example_names

EXAMPLES = Path(__file__).resolve().parent.parent / "autograd_tiny" / "examples"

#: Window sizes (CSS px of the page's viewport): a projector, a laptop, a narrow window.
SIZES = [(1400, 1000), (1280, 800), (800, 900)]


def _viewport(driver: Any, width: int, height: int) -> None:
    """Resize the window so that the page's viewport is ``width`` x ``height``."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _open(driver: Any, html: str, path: Path, size: tuple[int, int]) -> None:
    path.write_text(html, encoding="utf-8")
    driver.get("about:blank")
    _viewport(driver, *size)
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.body.dataset.ready") == "1"
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == list(size)
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors


#: For the picture shown: each visible text's size on screen, its box, and each node's box.
MEASURE = """
const pane = document.getElementById('pane');
const net = document.getElementById('net-view');
const view = net.hidden ? document.getElementById('graph') : net;
const r = (b) => [b.left, b.top, b.right, b.bottom];
const texts = Array.from(view.querySelectorAll('text')).filter(
  t => t.textContent.trim() && t.getClientRects().length && !t.closest('.off'));
return {
  view: net.hidden ? 'graph' : 'network',
  pane: r(pane.getBoundingClientRect()),
  paneClient: [pane.clientWidth, pane.clientHeight, pane.scrollWidth, pane.scrollHeight],
  texts: texts.map(t => ({text: t.textContent,
                          px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
                          box: r(t.getBoundingClientRect())})),
  boxes: Array.from(view.querySelectorAll(net.hidden ? 'g.node' : 'g.nbox')).filter(
    g => !g.closest('.off')).map(g => r(g.getBoundingClientRect())),
};
"""


def _overlap(a: list[float], b: list[float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _check_picture(m: dict[str, Any], *, fits: bool) -> None:
    assert m["texts"], "no text in the picture"
    small = [(t["text"], round(t["px"], 2)) for t in m["texts"] if t["px"] < 11]
    assert not small, small
    if fits:
        left, top, right, bottom = m["pane"]
        cut = [b for b in m["boxes"] if b[0] < left - 0.5 or b[1] < top - 0.5
               or b[2] > right + 0.5 or b[3] > bottom + 0.5]
        assert not cut, (m["pane"], cut)
        width, height, scroll_w, scroll_h = m["paneClient"]
        assert scroll_w <= width and scroll_h <= height, m["paneClient"]
    texts = m["texts"]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert _overlap(a["box"], b["box"]) < 2.0, (a, b)


def _mlp_2881() -> Value:
    from autograd_tiny.nn import MLP, Layer, Neuron, half_squared_error

    rng = random.Random(1)
    sizes = [2, 8, 8, 1]
    net = MLP.from_layers([
        Layer.from_neurons([Neuron(sizes[k - 1], "tanh", bias=0.1, name=f"L{k}n{j + 1}", rng=rng)
                            for j in range(sizes[k])])
        for k in range(1, len(sizes))])
    loss = half_squared_error(net([Value(0.5, "x1"), Value(-1.0, "x2")]), [0.25])
    loss.label = "E"
    return loss


PAGES = [*example_names(), "mlp-2-8-8-1", "circuit"]


def _page(name: str) -> str:
    if name == "mlp-2-8-8-1":
        return to_html(_mlp_2881()).html
    if name == "circuit":
        from test_html_stepper import CIRCUIT

        return to_html(load_derivation(CIRCUIT)).html
    return to_html(load_derivation(EXAMPLES / f"{name}.toml")).html


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", PAGES)
def test_the_picture_is_readable_at_load_and_while_stepping(chromium: Any, tmp_path: Path, name: str,
                                                            size: tuple[int, int]) -> None:
    _open(chromium, _page(name), tmp_path / f"{name}.html", size)
    m = chromium.execute_script(MEASURE)
    # A network opens on its network view (a batch's: one sample's), an expression on its circuit.
    assert m["view"] == "network"
    _check_picture(m, fits=True)
    last = int(chromium.find_element("id", "step").get_attribute("max"))
    for step in sorted({1, last // 3, last // 2, last - 1, last}):
        chromium.execute_script("""
            const s = document.getElementById('step');
            s.value = String(arguments[0]); s.dispatchEvent(new Event('input'));""", step)
        _check_picture(chromium.execute_script(MEASURE), fits=True)
    # and the operation graph, one click away
    chromium.find_element("id", "btn-view-graph").click()
    m = chromium.execute_script(MEASURE)
    assert m["view"] == "graph"
    assert not [t["text"] for t in m["texts"] if t["px"] < 11]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["seed003", "seed004"])  # seed004 writes 10 to 13 digits
def test_the_claims_table_keeps_its_verdict_and_hint_columns(chromium: Any, tmp_path: Path, name: str,
                                                            size: tuple[int, int]) -> None:
    _open(chromium, _page(name), tmp_path / f"{name}.html", size)
    chromium.find_element("id", "btn-last").click()
    cells = chromium.execute_script("""
        const w = window.innerWidth;
        const table = document.getElementById('claims');
        const box = table.parentNode.getBoundingClientRect();
        return Array.from(table.querySelectorAll('th, td.verdict, td.hint')).map(c => {
          const b = c.getBoundingClientRect();
          return [c.textContent, b.left, b.right, b.width, Math.min(w, box.right)];
        });""")
    assert [c[0] for c in cells[:5]] == ["claim", "written", "computed", "verdict", "hint"]
    for text, left, right, width, limit in cells:
        assert width > 0 and left >= 0 and right <= limit + 0.5, (text, left, right, limit)
    verdicts = [c[0] for c in cells[5:] if c[0] in ("ok", "wrong", "follows")]
    assert verdicts.count("wrong") == (4 if name == "seed003" else 0)
    assert len(verdicts) == len(load_derivation(EXAMPLES / f"{name}.toml").spec.claims)


@pytest.mark.parametrize("name", ["seed003", "seed004", "seed002", "circuit"])
def test_each_claim_shows_exactly_from_the_step_that_computes_it(chromium: Any, tmp_path: Path,
                                                                 name: str) -> None:
    if name == "circuit":
        from test_html_stepper import CIRCUIT

        derivation = load_derivation(CIRCUIT)
    else:
        derivation = load_derivation(EXAMPLES / f"{name}.toml")
    results = derivation.check()
    _open(chromium, _page(name), tmp_path / f"{name}.html", (1400, 1000))
    last = int(chromium.find_element("id", "step").get_attribute("max"))
    first_seen: dict[str, int] = {}
    for step in range(last + 1):
        shown = chromium.execute_script("""
            const s = document.getElementById('step');
            s.value = String(arguments[0]); s.dispatchEvent(new Event('input'));
            return {
              rows: Array.from(document.querySelectorAll('#claims tbody tr')).filter(
                tr => ['ok', 'wrong', 'follows'].includes(tr.querySelector('td.verdict').textContent))
                .map(tr => tr.dataset.name),
              computed: Array.from(document.querySelectorAll('#claims tbody tr')).filter(
                tr => tr.querySelector('td.computed').textContent !== '').map(tr => tr.dataset.name),
              marks: document.querySelectorAll('#net-view tspan[class^="mark-"]').length,
              title: document.querySelector('#detail h2').textContent};""", step)
        assert shown["rows"] == shown["computed"]  # no computed figure before its verdict
        for claim in shown["rows"]:
            first_seen.setdefault(claim, step)
        # once shown, a claim stays shown: the rows are exactly those reached so far
        assert set(shown["rows"]) == {c for c, k in first_seen.items() if k <= step}
        if step == 0:
            assert shown["rows"] == [] and shown["marks"] == 0
        for claim, k in first_seen.items():
            if k == step and step < last:
                # the step that reveals a claim is the one that computes its quantity
                assert shown["title"].split(": ")[-1] in (claim, f"d{claim.split('/d')[-1]}" if "/" in claim
                                                          else claim.replace("out_", "net_")), \
                    (claim, shown["title"])
    assert set(first_seen) == {r.claim for r in results}
    # a claim about a later training step (E+, E@10000) is shown at the end
    for r in results:
        if r.quantity.step > 1 or (r.quantity.step == 1 and r.quantity.kind == "E"):
            assert first_seen[r.claim] == last


def test_the_summary_names_the_first_slip_and_goes_to_its_step(chromium: Any, tmp_path: Path) -> None:
    from autograd_tiny.derivation import summary

    derivation = load_derivation(EXAMPLES / "seed002.toml")
    _open(chromium, _page("seed002"), tmp_path / "seed002.html", (1400, 1000))
    line = chromium.find_element("id", "summary")
    assert line.text.startswith(summary(derivation.check()))
    assert "First slip: W10+" in line.text
    line.find_element("tag name", "a").click()
    assert chromium.find_element("css selector", "#detail h2").text == "Update: W10+"
    assert "claim W10+ = 1.4: wrong" in chromium.find_element("id", "detail").text


def test_a_claim_that_follows_links_to_the_step_of_the_slip_it_comes_from(chromium: Any,
                                                                         tmp_path: Path) -> None:
    _open(chromium, _page("seed003"), tmp_path / "seed003.html", (1400, 1000))
    chromium.find_element("id", "btn-last").click()
    row = chromium.find_element("css selector", "#claims tr[data-name='out_o1']")
    hint = row.find_element("css selector", "td.hint")
    assert hint.text.startswith("carried forward from the slip in net_o1")
    hint.find_element("link text", "\u2192 net_o1 (step 5)").click()
    assert chromium.find_element("id", "step-label").text == "step 5 of 42: forward pass, net_o1"
    assert "claim net_o1 = 0.794609: wrong" in chromium.find_element("id", "detail").text


def test_an_expression_opens_on_its_circuit_value_above_each_wire_gradient_below(chromium: Any,
                                                                                 tmp_path: Path) -> None:
    _open(chromium, _page("circuit"), tmp_path / "circuit.html", (1400, 1000))
    assert chromium.find_element("id", "btn-view-network").text == "circuit"
    chromium.find_element("id", "btn-last").click()
    wires = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#net-view g.wire-box')).map(g => {
          const line = g.querySelector('line').getBoundingClientRect();
          const up = g.querySelector('text.val'), down = g.querySelector('text.grad');
          return [up.textContent, down.textContent, up.getBoundingClientRect().bottom <= line.top + 1,
                  down.getBoundingClientRect().top >= line.bottom - 1, g.getAttribute('class')];
        });""")
    by_value = {w[0].split(" = ")[0]: w for w in wires}
    assert set(by_value) == {"x", "y", "z", "q", "f"}
    assert all(w[2] and w[3] for w in wires), wires  # value above its wire, gradient below
    assert by_value["q"][:2] == ["q = 3.0000 \u2713", "grad -4.0000 \u2713"]
    assert by_value["y"][1] == "grad -4.0000 \u2717 4" and "mark-wrong" in by_value["y"][4]
    assert by_value["f"][:2] == ["f = -12.0000 \u2713", "grad 1.0000"]
    gates = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#net-view text.op')).map(t => t.textContent);")
    assert sorted(gates) == ["*", "+"]


def test_a_batch_is_stepped_sample_by_sample_through_the_shared_weights(chromium: Any,
                                                                       tmp_path: Path) -> None:
    _open(chromium, _page("seed002_batch"), tmp_path / "batch.html", (1400, 1000))
    titles, samples = [], []
    last = int(chromium.find_element("id", "step").get_attribute("max"))
    for _ in range(last):
        chromium.find_element("id", "btn-next").click()
        titles.append(chromium.find_element("css selector", "#detail h2").text)
        samples.append(chromium.execute_script("return document.getElementById('sample').value"))
    # each sample's forward pass and loss, then the batch's loss: no per-sample copy of a weight
    forward = [f"{k}: {q}[{s}]" for s in range(1, 5)
               for k, q in [("Forward", "net_Z1"), ("Forward", "net_Z2"), ("Forward", "net_Z3"),
                            ("Forward", "net_D0"), ("Loss", "E")]]
    assert titles[:21] == [*forward, "Loss: E"]
    assert not [t for t in titles if "W10[" in t or "V00[" in t]
    # backward: each sample's deltas, then each weight's gradient, the sum over the samples
    assert titles[21:27] == ["Backward: dE/dE", "Backward: dE/dE[1]", "Backward: dE/dnet_D0[1]",
                             "Backward: dE/dnet_Z1[1]", "Backward: dE/dnet_Z2[1]", "Backward: dE/dnet_Z3[1]"]
    parameters = load_derivation(EXAMPLES / "seed002_batch.toml").parameters
    assert titles[-13:] == [f"Update: {p}+" for p in parameters]
    # the network view follows the step's sample
    assert samples[titles.index("Forward: net_Z1[3]")] == "2"
    assert samples[titles.index("Backward: dE/dnet_D0[4]")] == "3"
    # dE/dW11 = sum over the samples of dE/dnet_Z1[s] * X1[s] (the inputs X1 = 0, 0, 1, 1)
    chromium.execute_script("""
        const s = document.getElementById('step');
        s.value = String(arguments[0]); s.dispatchEvent(new Event('input'));""",
                            titles.index("Backward: dE/dW11") + 1)
    detail = chromium.find_element("id", "detail").text
    assert ("dE/dW11 = dE/dnet_Z1[1] * X1[1] + dE/dnet_Z1[2] * X1[2] + dE/dnet_Z1[3] * X1[3] + "
            "dE/dnet_Z1[4] * X1[4]") in detail
    assert "= 1 * 0 + 1.5 * 0 + 1.5 * 1 + 2.5 * 1" in detail and detail.endswith("= 4")
    # choosing a sample shows its inputs and neurons on the same weights
    chromium.execute_script("""
        const box = document.getElementById('sample');
        box.value = '3'; box.dispatchEvent(new Event('change'));""")
    texts = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#net-view text')).map(t => t.textContent);")
    assert "X1[4] = 1.0000" in texts and "X2[4] = 1.0000" in texts
    assert "dE/dW11 4.0000" in texts
