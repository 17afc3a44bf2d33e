"""The stepper page (autograd_tiny.to_html): generated JavaScript, escaping, and the page itself
driven in headless Chromium, its numbers read back and compared with the engine's."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from circuit import circuit_file

from autograd_tiny import StepperPage, Value, load_derivation, to_html
from autograd_tiny.derivation import summary
from autograd_tiny.html import jscode
from autograd_tiny.ops import OPS
from autograd_tiny.value import topological_order

EXAMPLES = Path(__file__).resolve().parent.parent / "autograd_tiny" / "examples"


def _seed(name: str) -> Any:
    return load_derivation(EXAMPLES / f"{name}.toml")


# -- without a browser --------------------------------------------------------------------------
def test_js_value_translates_operators_and_conditions() -> None:
    assert jscode.js_value("out * (1 - out)") == "(out * (1.0 - out))"
    assert jscode.js_value("x ** y") == "P.pow(x, y)"
    assert jscode.js_value("(0.0 if x <= 0 else 1.0)") == "(((x <= 0.0)) ? 0.0 : 1.0)"
    assert jscode.js_value("-out / y") == "((-out) / y)"
    with pytest.raises(ValueError, match="unknown name 'z'"):
        jscode.js_value("z + 1")


def test_js_text_prints_the_formula_module_form() -> None:
    assert jscode.js_text("out * (1 - out)") == '(s.out + " * (1 - " + s.out + ")")'
    # a condition picks its branch in the page
    assert jscode.js_text("(0.0 if x == 0 else out * log(x))") == \
        '(((x === 0.0)) ? ("0") : (s.out + " * log(" + s.x + ")"))'


def test_ops_script_has_every_operation_of_the_table() -> None:
    src = jscode.ops_script()
    for op in OPS.values():
        assert f'"{op.name}": {{' in src
        for d in op.derivatives:
            assert json.dumps(d) in src  # the table's own expression travels with the translation
    assert "</" not in src


def test_user_strings_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    evil = '</script><script>alert(1)</script><!--'
    a = Value(2.0, evil)
    b = Value(3.0, "b & <b>")
    page = to_html(a * b + a, title=evil)
    assert "<script>alert(1)" not in page.html
    assert "alert(1)" in page.html  # still there, escaped
    assert page.html.count("<script") == 2  # the JSON and the program, nothing injected
    data = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', page.html, re.S)
    assert data is not None
    parsed = json.loads(data.group(1))
    assert parsed["title"] == evil
    assert {n["name"] for n in parsed["nodes"]} >= {evil, "b & <b>"}


def test_the_page_loads_nothing_from_the_network() -> None:
    page = to_html(_seed("seed004"))
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page.html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "default-src 'none'" in page.html  # and the page's policy would block any load


def test_page_object_writes_and_shows_in_jupyter(tmp_path: Path) -> None:
    x = Value(0.5, "x")
    page = to_html(x.tanh(), tmp_path / "sub" / "p.html")
    assert isinstance(page, StepperPage)
    assert page.path == tmp_path / "sub" / "p.html"
    assert page.path.read_text(encoding="utf-8") == page.html
    assert page.nodes == 2
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=\"&lt;!DOCTYPE html&gt;")
    assert "StepperPage(2 values" in repr(page)
    # to_html leaves the caller's gradients as they were
    assert x.grad == 0.0


def test_to_html_rejects_what_it_cannot_show() -> None:
    with pytest.raises(TypeError, match="to_html needs a Value or a derivation"):
        to_html(3.0)
    with pytest.raises(ValueError, match="collapse must be"):
        to_html(Value(1.0), collapse="yes")
    with pytest.raises(ValueError, match="max_nodes"):
        to_html(Value(1.0), max_nodes=0)


# -- in Chromium --------------------------------------------------------------------------------
def _open(driver: Any, page: StepperPage, path: Path) -> None:
    page.write(path)
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.body.dataset.ready") == "1"
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors


def _rows(driver: Any) -> list[dict[str, str]]:
    """Every row of the page's value table: name, shown data/grad, and their full-precision text."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#values tbody tr')).map(tr => ({
          name: tr.dataset.name,
          data: tr.querySelector('td.data').textContent,
          dataFull: tr.querySelector('td.data').dataset.value,
          grad: tr.querySelector('td.grad').textContent,
          gradFull: tr.querySelector('td.grad').dataset.value}));
    """)


def _close(ours: str, theirs: float) -> bool:
    """The page's full-precision number against the engine's: JavaScript's exp may differ in the last bit."""
    x = float(ours)
    if math.isnan(theirs):
        return math.isnan(x)
    return x == theirs or abs(x - theirs) <= 1e-12 * abs(theirs)


def _step_label(driver: Any) -> str:
    return str(driver.find_element("id", "step-label").text)


def _go_to(driver: Any, ending: str) -> int:
    """Move the slider (set and announced like a drag) to the first step whose label ends with
    ``ending``; return that step (-1 when none does)."""
    step: int = driver.execute_script("""
        const s = document.getElementById('step');
        for (let k = 0; k <= parseInt(s.max); k++) {
          s.value = String(k); s.dispatchEvent(new Event('input'));
          if (document.getElementById('step-label').textContent.endsWith(arguments[0])) return k;
        }
        return -1;""", ending)
    return step


def test_seed004_stepped_to_the_end_shows_the_engines_gradients(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed004")
    _open(chromium, to_html(derivation), tmp_path / "seed004.html")
    loss = derivation.loss()
    loss.backward()
    topo = topological_order(loss)

    # At the start only the leaves have numbers, and the loss is not known yet.
    rows = _rows(chromium)
    assert len(rows) == len(topo) == 39
    for v, row in zip(topo, rows):
        assert (row["dataFull"] != "") == v.is_leaf
        assert row["gradFull"] == ""
    assert chromium.find_element("id", "loss-value").text == "?"

    # 8 neuron steps (net, out), 3 for the loss: then every value is known and no gradient.
    nxt = chromium.find_element("id", "btn-next")
    for _ in range(11):
        nxt.click()
    assert _step_label(chromium) == "step 11 of 42: the loss, E"
    rows = _rows(chromium)
    assert all(r["dataFull"] != "" and r["gradFull"] == "" for r in rows)
    assert chromium.find_element("id", "loss-value").text == "0.298371109"
    chromium.find_element("id", "btn-last").click()
    assert _step_label(chromium) == "step 42 of 42: update, b2+"
    nxt.click()  # past the end stays at the end
    assert _step_label(chromium).startswith("step 42 of 42")

    rows = _rows(chromium)
    for v, row in zip(topo, rows):
        assert row["name"] == (v.label or row["name"])
        # Bit for bit: the page does the engine's IEEE 754 operations in the engine's order
        # (sigmoid's exp included, which V8 and glibc round alike for these arguments).
        assert float(row["dataFull"]) == v.data, (row, v)
        assert row["data"] == f"{v.data:.9g}"
        if v.label in derivation.input_names:  # given: the lesson computes no gradient for them
            assert row["gradFull"] == ""
            continue
        assert float(row["gradFull"]) == v.grad, (row, v)
        assert row["grad"] == f"{v.grad:.9g}"
    by_name = {r["name"]: r for r in rows}
    # Every parameter's gradient, against the engine, and against the article's figure for w5
    # (dE/dw5 = 0.082167041, seed004.toml's header).
    for name, p in derivation.parameters.items():
        assert by_name[name]["grad"] == f"{p.grad:.9g}"
    assert round(float(by_name["w5"]["grad"]), 9) == 0.082167041

    # The network view shows the same numbers (4 decimals) on w5's edge, and its update.
    w5_text = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#net-view g.wlabel text'))
          .map(t => t.textContent).filter(t => t.startsWith('w5') || t.startsWith('dE/dw5'));""")
    assert w5_text == ["w5 = 0.4000", "dE/dw5 0.0822 \u2713", "w5+ = 0.3589 \u2713"]


def _detail_after(driver: Any, ending: str) -> str:
    assert _go_to(driver, ending) > 0, ending
    return str(driver.find_element("id", "detail").text)


def test_seed004_step_texts_are_the_textbooks_with_the_tables_formulas(chromium: Any,
                                                                        tmp_path: Path) -> None:
    _open(chromium, to_html(_seed("seed004")), tmp_path / "seed004.html")
    # A neuron's net input from its weights and inputs, then its output (seed004.toml's header)
    detail = _detail_after(chromium, "forward pass, net_h1")
    assert "net_h1 = w1 * i1 + w2 * i2 + b1\n  = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 = 0.3775" in detail
    detail = _detail_after(chromium, "forward pass, out_h1")
    assert "out_h1 = sigmoid(net_h1)\n  = sigmoid(0.3775) = 0.593269992" in detail
    detail = _detail_after(chromium, "the loss, E_o1")
    assert "E_o1 = 0.5 * (0.01 - out_o1)^2" in detail
    # An output delta: sigmoid's derivative from the table, out * (1 - out)
    detail = _detail_after(chromium, "backward pass, dE/dnet_o1")
    assert "dE/dnet_o1 = dE/dout_o1 * dout_o1/dnet_o1" in detail
    assert "dout_o1/dnet_o1 = out_o1 * (1 - out_o1)" in detail
    assert "= 0.751365 * (1 - 0.751365) = 0.186816" in detail
    assert "= 0.741365 * 0.186816 = 0.138498562" in detail
    # A hidden delta: the sum over the next layer, with the paths' terms (their running sum)
    detail = _detail_after(chromium, "backward pass, dE/dout_h1")
    assert "dE/dout_h1 = dE/dnet_o1 * w5 + dE/dnet_o2 * w7" in detail
    assert "= 0.138499 * 0.4 + (-0.0380982) * 0.5" in detail
    assert "= 0.0553994 + (-0.0190491) = 0.0363503064" in detail
    assert "claim dE/dout_h1 = 0.03635030639: ok" in detail
    detail = _detail_after(chromium, "backward pass, dE/dw5")
    assert "dE/dw5 = dE/dnet_o1 * out_h1\n  = 0.138499 * 0.59327 = 0.0821670406" in detail
    # the update, with the file's learning rate (w5+ = 0.3589164797 in seed004.toml)
    detail = _detail_after(chromium, "update, w5+")
    assert "w5+ = w5 - lr * dE/dw5\n  = 0.4 - 0.5 * 0.082167 = 0.35891648" in detail
    detail = _detail_after(chromium, "update, b1+")
    assert "b1 is not trained (update_biases = false): b1+ = b1" in detail


def test_seed004_steps_go_layer_by_layer_and_neuron_by_neuron(chromium: Any, tmp_path: Path) -> None:
    _open(chromium, to_html(_seed("seed004")), tmp_path / "seed004.html")
    titles = []
    nxt = chromium.find_element("id", "btn-next")
    for _ in range(42):
        nxt.click()
        titles.append(chromium.find_element("css selector", "#detail h2").text)
    forward = [f"Forward: {q}_{n}" for n in ("h1", "h2", "o1", "o2") for q in ("net", "out")]
    loss = ["Loss: E_o1", "Loss: E_o2", "Loss: E", "Backward: dE/dE"]
    outputs = [f"Backward: dE/d{q}" for q in ("E_o1", "E_o2", "out_o1", "net_o1", "out_o2", "net_o2",
                                               "w5", "w6", "w7", "w8", "b2")]
    hidden = [f"Backward: dE/d{q}" for q in ("out_h1", "net_h1", "out_h2", "net_h2",
                                              "w1", "w2", "w3", "w4", "b1")]
    updates = [f"Update: {p}+" for p in ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2")]
    assert titles == forward + loss + outputs + hidden + updates


def test_no_internal_name_anywhere_in_the_page(chromium: Any, tmp_path: Path) -> None:
    from autograd_tiny.nn import MLP, half_squared_error

    # an nn network with three inputs: its neurons' sums are unnamed and too long to name in full
    net = MLP(3, [4, 1], activation="tanh")
    mlp_loss = half_squared_error(net([Value(0.5, "x1"), Value(-1.0, "x2"), Value(2.0, "x3")]), [0.25])
    pages = {"seed003": to_html(_seed("seed003")), "seed004": to_html(_seed("seed004")),
             "ops": to_html(_every_op(0.7, -1.3, 2.0)), "mlp": to_html(mlp_loss)}
    for name, page in pages.items():
        _open(chromium, page, tmp_path / f"{name}.html")
        for view in ("network", "graph"):  # the network button shows a circuit for an expression
            seen = chromium.execute_script("""
                const b = document.getElementById(arguments[0]);
                if (!b.hidden) b.click();
                const out = [];
                const s = document.getElementById('step');
                for (let k = 0; k <= parseInt(s.max); k++) {
                  s.value = String(k); s.dispatchEvent(new Event('input'));
                  out.push(document.body.innerText);
                }
                return out.join('\\n');""", f"btn-view-{view}")
            found = re.search(r".{0,40}\bv\d+\b.{0,40}", seen)
            assert found is None, (name, view, found)


def test_editing_a_weight_recomputes_the_loss_and_gradients(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed004")
    _open(chromium, to_html(derivation), tmp_path / "seed004.html")
    box = chromium.find_element("css selector", "#leaves input[data-name='w5']")
    box.clear()
    box.send_keys("-1.25")
    chromium.find_element("id", "btn-last").click()

    expected = _seed("seed004")
    expected.parameters["w5"].data = -1.25
    loss = expected.loss()
    loss.backward()
    shown = chromium.find_element("id", "loss-value")
    assert shown.text == f"{loss.data:.9g}"
    assert _close(shown.get_attribute("data-value"), loss.data)
    assert abs(loss.data - 0.2983711088) > 0.01  # the edit changed the loss
    rows = {r["name"]: r for r in _rows(chromium)}
    for name, p in expected.parameters.items():
        assert _close(rows[name]["gradFull"], p.grad), name
    # the file's verdicts are for the file's numbers: cleared, in the table, the text and the picture
    assert "A leaf was edited" in chromium.find_element("id", "claims-note").text
    verdicts = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#claims td.verdict')).map(td => td.textContent);")
    assert verdicts and set(verdicts) == {"\u2014"}
    assert "ok" not in chromium.find_element("id", "detail").text
    assert chromium.find_elements("css selector", "#net-view tspan[class^='mark-']") == []

    chromium.find_element("id", "btn-reset").click()
    assert chromium.find_element("id", "loss-value").text == "0.298371109"
    verdicts = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#claims td.verdict')).map(td => td.textContent);")
    assert set(verdicts) == {"ok"}


def test_wrong_claims_are_marked_on_their_nodes_from_their_step(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed003")
    results = derivation.check()
    _open(chromium, to_html(derivation), tmp_path / "seed003.html")
    chromium.find_element("id", "btn-last").click()
    marks = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#net-view tspan[class^="mark-"]')).map(
          t => [t.parentNode.textContent, t.getAttribute('class')]);""")
    wrong = [r for r in results if r.verdict == "wrong"]
    assert {r.claim for r in wrong} == {"net_o1", "out_o2", "w1+", "E+"}  # E+ has no node
    found = {cls for _, cls in marks}
    assert found == {"mark-ok", "mark-wrong", "mark-follows"}
    texts = [t for t, cls in marks if cls == "mark-wrong"]
    assert "net 0.8447 \u2717 0.794609" in texts  # the computed figure, and the written one
    assert "w1+ = 0.2497 \u2717 0.249921" in texts
    table = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#claims tbody tr')).map(
          tr => Array.from(tr.children).map(td => td.textContent));""")
    assert [row[0] for row in table] == [r.claim for r in results]
    assert [row[3] for row in table] == [r.verdict for r in results]
    # the hint, then (for a claim that follows) links to the steps of the figures it comes from
    assert [row[4].split(" \u2192 ")[0] for row in table] == [r.hint or "" for r in results]
    assert any(row[4] for row in table)  # seed003 has hints


def _every_op(a_: float, b_: float, c_: float) -> Value:
    """One graph with every primitive, and numbers on either side of the binary ones."""
    a, b, c = Value(a_, "a"), Value(b_, "b"), Value(c_, "c")
    e = ((a * b + c) / (a - 3.0)) ** 2 + (2.0 ** a) + (-b).exp() + c.log() + b.tanh() + a.sigmoid()
    e = e + b.relu() + a.relu() + c.sqrt() + abs(b) + b.sin() * a.cos() + (1.0 / c) + (a ** c)
    e.label = "e"
    return e


def test_every_operation_of_the_table_computes_in_the_page(chromium: Any, tmp_path: Path) -> None:
    e = _every_op(0.7, -1.3, 2.0)
    _open(chromium, to_html(e), tmp_path / "ops.html")
    chromium.find_element("id", "btn-last").click()
    e.backward()
    topo = topological_order(e)
    assert {v.op.name for v in topo if v.op is not None} == set(OPS)
    rows = _rows(chromium)
    for v, row in zip(topo, rows, strict=True):
        assert _close(row["dataFull"], v.data), (row, v)
        assert _close(row["gradFull"], v.grad), (row, v)

    # Edit a leaf: the page follows the engine with that value (same graph, b's branches differ).
    box = chromium.find_element("css selector", "#leaves input[data-name='b']")
    box.clear()
    box.send_keys("0.4")
    e2 = _every_op(0.7, 0.4, 2.0)
    e2.backward()
    rows = _rows(chromium)
    for v, row in zip(topological_order(e2), rows, strict=True):
        assert _close(row["dataFull"], v.data), (row, v)
        assert _close(row["gradFull"], v.grad), (row, v)


def test_hovering_a_node_shows_its_formula(chromium: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    derivation = _seed("seed004")
    _open(chromium, to_html(derivation), tmp_path / "seed004.html")
    chromium.find_element("id", "btn-view-graph").click()
    chromium.find_element("id", "btn-last").click()
    target = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#graph g.node'))
          .find(g => Array.from(g.querySelectorAll('text')).some(t => t.textContent === 'out_h1'))
          .querySelector('polygon');""")
    chromium.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", target)
    ActionChains(chromium).move_to_element(target).perform()
    tip = chromium.find_element("id", "tooltip")
    assert tip.is_displayed()
    assert "out_h1 = sigmoid(net_h1)" in tip.text
    assert "= sigmoid(0.3775) = 0.593269992" in tip.text


# -- the command line ---------------------------------------------------------------------------
def _page_data(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', text, re.S)
    assert found is not None
    parsed: dict[str, Any] = json.loads(found.group(1))
    return parsed


def test_check_html_writes_the_page_with_the_claims(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    from autograd_tiny.cli import main

    target = tmp_path / "check.html"
    status = main(["check", str(EXAMPLES / "seed003.toml"), "--html", str(target)])
    out, err = capsys.readouterr()
    assert status == 1 and err == ""  # seed003 has slips
    assert out.splitlines()[-1] == f"wrote {target}"
    data = _page_data(target)
    verdicts = [(c["name"], c["verdict"]) for c in data["claims"]]
    assert verdicts == [(r.claim, r.verdict) for r in _seed("seed003").check()]
    assert ("net_o1", "wrong") in verdicts
    net_o1 = next(c for c in data["claims"] if c["name"] == "net_o1")
    assert data["nodes"][net_o1["node"]]["name"] == "net_o1" and net_o1["field"] == "data"
    # each claim shows at the step that computes its figure; w1+ at its update, E+ at the end
    titles = {c["name"]: data["steps"][c["step"]]["title"] for c in data["claims"]}
    assert titles["net_o1"] == "Forward: net_o1"
    assert titles["w1+"] == "Update: w1+"
    assert titles["E+"] == data["steps"][-1]["title"]
    assert data["summary"] == summary(_seed("seed003").check())


def test_demo_html_writes_the_seed004_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from autograd_tiny.cli import main

    target = tmp_path / "demo.html"
    assert main(["demo", "--html", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"Stepper page written to {target}"
    data = _page_data(target)
    loss = _seed("seed004").loss()
    assert data["nodes"][-1]["name"] == "E" and data["nodes"][-1]["data"] == loss.data


@pytest.mark.parametrize("command", [["check", str(EXAMPLES / "seed004.toml")], ["demo"]])
def test_html_to_a_directory_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      command: list[str]) -> None:
    from autograd_tiny.cli import main

    assert main([*command, "--html", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"autograd-tiny: error: --html {str(tmp_path)!r} is a directory; " \
                  "give the name of the .html file to write\n"


def test_a_2_16_16_1_mlp_page_is_collapsed_and_still_steps_and_recomputes(chromium: Any,
                                                                         tmp_path: Path) -> None:
    import random

    from autograd_tiny.nn import MLP, Layer, Neuron, half_squared_error

    def loss_of(x1: float) -> Value:
        rng = random.Random(0)
        sizes = [2, 16, 16, 1]
        net = MLP.from_layers([
            Layer.from_neurons([Neuron(sizes[k - 1], "tanh", bias=0.1, name=f"L{k}n{j}", rng=rng)
                                for j in range(sizes[k])])
            for k in range(1, len(sizes))])
        loss = half_squared_error(net([Value(x1, "x1"), Value(-1.0, "x2")]), [0.25])
        loss.label = "E"
        return loss

    loss = loss_of(0.5)
    page = to_html(loss)
    assert page.collapsed and page.nodes == len(topological_order(loss)) > 900
    _open(chromium, page, tmp_path / "mlp.html")
    chromium.find_element("id", "btn-view-graph").click()
    chromium.find_element("id", "btn-last").click()
    loss.backward()
    rows = _rows(chromium)
    for v, row in zip(topological_order(loss), rows, strict=True):
        assert _close(row["dataFull"], v.data), (row, v)
        assert _close(row["gradFull"], v.grad), (row, v)
    # each neuron is one node of the picture, showing its output and that output's gradient
    out = next(v for v in topological_order(loss) if v.label == "out_L2n3")
    texts = chromium.execute_script("""
        const g = Array.from(document.querySelectorAll('#graph g.node'))
          .find(g => Array.from(g.querySelectorAll('text'))
                      .some(t => t.textContent.startsWith('neuron L2n3 ')));
        return Array.from(g.querySelectorAll('text')).map(t => t.textContent);""")
    assert f"out {out.data:.4f}" in texts and f"grad {out.grad:.4f}" in texts

    box = chromium.find_element("css selector", "#leaves input[data-name='x1']")
    box.clear()
    box.send_keys("2")
    assert chromium.find_element("id", "loss-value").text == f"{loss_of(2.0).data:.9g}"


def test_small_graphs_a_leaf_a_square_and_ieee_specials(chromium: Any, tmp_path: Path) -> None:
    _open(chromium, to_html(Value(3.0, "z")), tmp_path / "leaf.html")
    chromium.find_element("id", "btn-last").click()
    assert _step_label(chromium) == "step 1 of 1: backward pass, dz/dz"
    assert [(r["data"], r["grad"]) for r in _rows(chromium)] == [("3", "1")]

    # x * x: the same Value is both operands, so two paths meet at x: d(x^2)/dx = 3 + 3 = 6
    x = Value(3.0, "x")
    _open(chromium, to_html(x * x), tmp_path / "square.html")
    chromium.find_element("id", "btn-last").click()
    detail = chromium.find_element("id", "detail").text
    # both paths in one factor, from the table's derivatives of * (y and x): 3 + 3 = 6
    assert "d(x * x)/dx = x + x\n    = 3 + 3 = 6" in detail and detail.endswith(" = 6"), detail

    # 0 / 0 and log(0): nan and -inf shown as the engine has them, like PyTorch
    a = Value(0.0, "a")
    e = (a / a) * Value(2.0, "b") + a.log()
    _open(chromium, to_html(e), tmp_path / "nan.html")
    chromium.find_element("id", "btn-last").click()
    e.backward()
    for v, row in zip(topological_order(e), _rows(chromium), strict=True):
        assert _close(row["dataFull"], v.data) and _close(row["gradFull"], v.grad), (row, v)
    assert {r["name"]: r["data"] for r in _rows(chromium)}["log(a)"] == "-inf"


def test_each_paths_term_is_what_the_gradient_receives(chromium: Any, tmp_path: Path) -> None:
    # y = exp(log(x)) at x = 5e-324: d log(x)/dx = 1/x overflows, but the engine divides,
    # dy/dx = 1 (as PyTorch gives it); the path's term shown must be that 1, not 4.9e-324 * inf
    x = Value(5e-324, "x")
    inner = x.log()
    inner.label = "u"
    y = inner.exp()
    y.label = "y"
    y.backward()
    assert x.grad == 1.0
    _open(chromium, to_html(y), tmp_path / "subnormal.html")
    chromium.find_element("id", "btn-last").click()
    detail = chromium.find_element("id", "detail").text
    assert detail.endswith(" = 1"), detail
    rows = {r["name"]: r for r in _rows(chromium)}
    assert rows["x"]["grad"] == "1"


def test_a_graph_too_big_to_draw_gets_tables_only(chromium: Any, tmp_path: Path) -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(1100):  # 2,201 Values, no neurons to collapse: more than Graphviz should lay out
        y = y * 0.999 + x
    page = to_html(y)
    assert "too many nodes to draw" in page.html and "<svg" not in page.html
    _open(chromium, page, tmp_path / "chain.html")
    chromium.find_element("id", "btn-last").click()
    y.backward()
    assert _close(chromium.find_element("id", "loss-value").get_attribute("data-value"), y.data)
    rows = {r["name"]: r for r in _rows(chromium)}
    assert _close(rows["x"]["gradFull"], x.grad)


def test_play_advances_and_pause_stops(chromium: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    x = Value(0.5, "x")
    _open(chromium, to_html((x * 2.0).tanh().exp()), tmp_path / "play.html")
    play = chromium.find_element("id", "btn-play")
    play.click()
    assert "pause" in play.text
    WebDriverWait(chromium, 30).until(lambda d: _step_label(d).startswith("step 2 of"))
    play.click()
    assert "play" in play.text
    stopped = _step_label(chromium)
    chromium.find_element("id", "btn-back").click()
    assert _step_label(chromium).startswith(f"step {int(stopped.split()[1]) - 1} of")


def test_a_derivations_leaves_are_listed_inputs_first_then_parameters() -> None:
    derivation = _seed("seed004")
    data = json.loads(re.search(r'id="stepper-data">(.*?)</script>', to_html(derivation).html, re.S).group(1))
    names = [data["nodes"][i]["name"] for i in data["leaves"]]
    assert names == ["i1", "i2", *derivation.parameters]



#: f = (x + y) z at x = -2, y = 5, z = -4: q = 3, f = -12, df/dq = z = -4, df/dz = q = 3,
#: df/dx = df/dy = df/dq * 1 = -4; df/dy is written with its sign flipped.
CIRCUIT = circuit_file("f = (x + y) z", '''q = 3
f = -12
"df/dq" = -4
"df/dy" = 4
''')


def test_an_expression_files_claims_are_on_their_nodes_in_the_page_and_the_svg(
        chromium: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_tiny.cli import main

    source = tmp_path / "circuit.toml"
    source.write_text(CIRCUIT, encoding="utf-8")
    html_path, svg_dir = tmp_path / "c.html", tmp_path / "svg"
    assert main(["check", str(source), "--html", str(html_path), "--svg", str(svg_dir)]) == 1
    capsys.readouterr()
    # the SVG: y's node has the red border and the written and computed figures
    svg = (tmp_path / "svg" / "graph.svg").read_text(encoding="utf-8")
    y_node = next(g for g in svg.split('<g id="node')
                  if re.search(r">(parameter|input) y<", g))
    assert 'stroke="#d62728"' in y_node and "WRONG df/dy: written 4, computed &#45;4" in y_node
    # the page: y's node is marked wrong from the step that computes df/dy on, not before
    chromium.get((tmp_path / "c.html").resolve().as_uri())
    assert chromium.execute_script("return document.body.dataset.ready") == "1"
    data = _page_data(tmp_path / "c.html")
    dfdy = next(c for c in data["claims"] if c["name"] == "df/dy")
    assert data["nodes"][dfdy["node"]]["name"] == "y" and dfdy["field"] == "grad"
    assert data["steps"][dfdy["step"]]["title"] == "Backward: df/dy"
    marked = """return Array.from(document.querySelectorAll('#graph g.node.claim-wrong text'))
                  .map(t => t.textContent);"""
    _go_to(chromium, "backward pass, df/dq")
    assert chromium.execute_script(marked) == []
    assert _go_to(chromium, "backward pass, df/dy") == dfdy["step"]
    assert "input y" in chromium.execute_script(marked) or "parameter y" in chromium.execute_script(marked)
    detail = chromium.find_element("id", "detail").text
    assert "claim df/dy = 4: wrong \u2014 the derivative's sign is flipped" in detail


def test_user_strings_stay_text_in_every_view(chromium: Any, tmp_path: Path) -> None:
    evil = '<img src=x onerror="document.title=1">'
    a = Value(2.0, evil)
    b = Value(3.0, "b & <b>")
    y = a * b + a
    y.label = "y</text><script>"
    _open(chromium, to_html(y, title=evil), tmp_path / "evil.html")
    for view in ("network", "graph"):  # the circuit, then the operations
        chromium.find_element("id", f"btn-view-{view}").click()
        chromium.find_element("id", "btn-last").click()
        assert chromium.execute_script("return document.querySelectorAll('img, b, text script').length") == 0
        shown = chromium.execute_script("return document.body.innerText + document.querySelector("
                                        "'#pane').textContent")
        assert evil in shown and "b & <b>" in shown
    assert chromium.find_element("css selector", "h1").text == evil
    assert chromium.title == evil


def test_quiz_mode_hides_each_number_until_a_figure_is_typed(chromium: Any, tmp_path: Path) -> None:
    # seed 004: net_h1 = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 = 0.3775, out_h1 = sigmoid(0.3775) =
    # 0.593269992. The page judges a typed figure with the checker's own rule (within, translated).
    from decimal import Decimal

    from autograd_tiny.derivation.checker import matches, within
    from autograd_tiny.derivation.format import Claim, Quantity
    from autograd_tiny.html.jscode import function_js

    page = to_html(_seed("seed004"))
    assert function_js(within) in page.html
    _open(chromium, page, tmp_path / "quiz.html")
    chromium.find_element("id", "btn-quiz").click()
    step = _go_to(chromium, "forward pass, net_h1")
    assert step > 0
    # Hidden: no formula with the number, the value table's net_h1 empty, an input instead.
    assert "0.3775" not in chromium.find_element("id", "detail").text
    rows = {r["name"]: r for r in _rows(chromium)}
    assert rows["net_h1"]["data"] == ""
    # nor do the file's own written figures of the steps to come
    written = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#claims td.written')).map(td => td.textContent)")
    assert "0.3775" not in written
    box = chromium.find_element("id", "quiz-input")
    box.send_keys("0.38\n")  # 0.3775 rounded to two decimals: ok, as the checker says
    detail = chromium.find_element("id", "detail").text
    assert "your figure 0.38: ok" in detail and "= 0.3775" in detail
    assert {r["name"]: r for r in _rows(chromium)}["net_h1"]["dataFull"] == "0.3775"
    _go_to(chromium, "forward pass, out_h1")
    chromium.find_element("id", "quiz-input").send_keys("0.5933\n")  # 0.593269992: 0.5933 ok
    assert "your figure 0.5933: ok" in chromium.find_element("id", "detail").text
    _go_to(chromium, "forward pass, net_h2")
    # net_h2 = 0.3925: 0.39 (cut off) and 0.39 are the checker's ok, 0.40 is wrong
    chromium.find_element("id", "quiz-input").send_keys("0.40\n")
    assert "your figure 0.40: wrong, the value is 0.3925" in chromium.find_element("id", "detail").text
    # Matching the checker, figure by figure: the page's judge against checker.matches.
    for written, value in [("0.59326", 0.5932699921), ("0.59327000", 0.5932699921), ("-0.0", -1e-9),
                           ("0", -1e-9), ("1", 0.36), ("1.5e-3", 0.00149), ("2", 2.5)]:
        exact = Decimal(written)
        claim = Claim(name="x", written=written, value=float(exact), exact=exact,
                      quantity=Quantity("E", None, 0))
        ours = chromium.execute_script("return judgeFigure(arguments[0], arguments[1])", written, value)
        assert ours is matches(claim, value), (written, value)
