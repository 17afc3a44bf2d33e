"""The stepper page (autograd_tiny.to_html): generated JavaScript, escaping, and the page itself
driven in headless Chromium, its numbers read back and compared with the engine's."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from autograd_tiny import StepperPage, Value, load_derivation, to_html
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


def test_seed004_stepped_to_the_end_shows_the_engines_gradients(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed004")
    _open(chromium, to_html(derivation), tmp_path / "seed004.html")
    loss = derivation.loss()
    loss.backward()
    topo = topological_order(loss)

    # At the start only the leaves have numbers.
    rows = _rows(chromium)
    assert len(rows) == len(topo) == 39
    for v, row in zip(topo, rows):
        assert (row["dataFull"] != "") == v.is_leaf
        assert row["gradFull"] == ""

    # Step by step to the end: 28 operations forward, then 39 gradients backward.
    nxt = chromium.find_element("id", "btn-next")
    forward = sum(1 for v in topo if not v.is_leaf)
    for _ in range(forward):
        nxt.click()
    assert _step_label(chromium) == f"step {forward} of {forward + len(topo)}: forward pass, E"
    rows = _rows(chromium)
    assert all(r["dataFull"] != "" and r["gradFull"] == "" for r in rows)
    for _ in range(len(topo)):
        nxt.click()
    assert _step_label(chromium).startswith(f"step {forward + len(topo)} of {forward + len(topo)}: backward")
    nxt.click()  # past the end stays at the end
    assert _step_label(chromium).startswith(f"step {forward + len(topo)} of")

    rows = _rows(chromium)
    for v, row in zip(topo, rows):
        assert row["name"] == (v.label or row["name"])
        # Bit for bit: the page does the engine's IEEE 754 operations in the engine's order
        # (sigmoid's exp included, which V8 and glibc round alike for these arguments).
        assert float(row["dataFull"]) == v.data, (row, v)
        assert float(row["gradFull"]) == v.grad, (row, v)
        assert row["data"] == f"{v.data:.9g}"
        assert row["grad"] == f"{v.grad:.9g}"
    by_name = {r["name"]: r for r in rows}
    # Every parameter's gradient, against the engine, and against the article's figure for w5
    # (dE/dw5 = 0.082167041, seed004.toml's header).
    for name, p in derivation.parameters.items():
        assert by_name[name]["grad"] == f"{p.grad:.9g}"
    assert round(float(by_name["w5"]["grad"]), 9) == 0.082167041
    assert chromium.find_element("id", "loss-value").text == "0.298371109"

    # The picture shows the same numbers (4 decimals) in w5's record.
    w5_text = chromium.execute_script("""
        const g = Array.from(document.querySelectorAll('#graph g.node'))
          .find(g => Array.from(g.querySelectorAll('text')).some(t => t.textContent === 'parameter w5'));
        return Array.from(g.querySelectorAll('text')).map(t => t.textContent);""")
    assert "data 0.4000" in w5_text and "grad 0.0822" in w5_text


def test_seed004_backward_step_shows_formula_numbers_and_running_sum(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed004")
    _open(chromium, to_html(derivation), tmp_path / "seed004.html")
    slider = chromium.find_element("id", "step")
    # Go to the backward step of net_h1 with the slider (set and announced like a drag).
    step = chromium.execute_script("""
        const rows = Array.from(document.querySelectorAll('#values tbody tr'));
        const s = document.getElementById('step');
        for (let k = 0; k <= parseInt(s.max); k++) {
          s.value = String(k); s.dispatchEvent(new Event('input'));
          if (document.getElementById('step-label').textContent.endsWith('backward pass, net_h1')) return k;
        }
        return -1;""")
    assert step > 0 and slider.get_attribute("value") == str(step)
    detail = chromium.find_element("id", "detail").text
    # sigmoid's derivative from the table, out * (1 - out), with out_h1 = 0.593269992 (seed004.toml)
    assert "dout_h1/dnet_h1 = out_h1 * (1 - out_h1)" in detail
    assert "= 0.59327 * (1 - 0.59327) = 0.241300709" in detail
    # one step back: out_h1, where two paths (through w5 and w7) meet and are summed
    chromium.find_element("id", "btn-back").click()
    detail = chromium.find_element("id", "detail").text
    assert _step_label(chromium).endswith("backward pass, out_h1")
    assert detail.count("running sum") == 2
    # the two paths, through w5 * out_h1 and w7 * out_h1 (unlabelled: named by their expression)
    assert "path 1 through w5 * out_h1 (*):" in detail
    assert "local derivative  d(w5 * out_h1)/dout_h1 = w5" in detail
    # dE/dout_h1 = 0.03635030639 (seed004.toml's claim, computed by the engine)
    assert "dE/dout_h1 = sum of 2 paths = 0.0363503064" in detail
    assert "claim dE/dout_h1 = 0.03635030639: ok" in detail


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
    assert "a leaf was edited" in chromium.find_element("id", "claims-note").text

    chromium.find_element("id", "btn-reset").click()
    assert chromium.find_element("id", "loss-value").text == "0.298371109"


def test_wrong_claims_are_marked_beside_their_nodes(chromium: Any, tmp_path: Path) -> None:
    derivation = _seed("seed003")
    results = derivation.check()
    _open(chromium, to_html(derivation), tmp_path / "seed003.html")
    marks = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#graph text.claim')).map(
          t => [t.textContent, t.getAttribute('class')]);""")
    wrong = [r for r in results if r.verdict == "wrong" and r.quantity.step == 0]
    assert wrong, "seed003 has wrong claims"
    for r in wrong:
        assert [f"claim {r.claim} {r.written} WRONG", "claim wrong"] in marks
    table = chromium.execute_script("""
        return Array.from(document.querySelectorAll('#claims tbody tr')).map(
          tr => Array.from(tr.children).map(td => td.textContent));""")
    assert [row[0] for row in table] == [r.claim for r in results]
    assert [row[3] for row in table] == [r.verdict for r in results]


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
    assert _step_label(chromium) == "step 1 of 1: backward pass, z"
    assert [(r["data"], r["grad"]) for r in _rows(chromium)] == [("3", "1")]

    # x * x: the same Value is both operands, so two paths meet at x: d(x^2)/dx = 3 + 3 = 6
    x = Value(3.0, "x")
    _open(chromium, to_html(x * x), tmp_path / "square.html")
    chromium.find_element("id", "btn-last").click()
    detail = chromium.find_element("id", "detail").text
    assert detail.count("running sum") == 2 and detail.endswith("d(x * x)/dx = sum of 2 paths = 6")

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
    assert detail.endswith("dy/dx = 1"), detail
    assert "= inf" not in detail.split("dy/du * local")[1], detail


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
