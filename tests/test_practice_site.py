"""``autograd-tiny site``: the practice page checks derivations in the browser, with this package
running in Pyodide, and gives the verdicts and hints of ``autograd-tiny check --format json``.

The browser tests build the site with ``--pyodide`` from the ``pyodide`` npm package (CI runs
``npm install pyodide@314.0.7``; without it they skip, saying so), serve it from 127.0.0.1 and
drive headless Chromium, whose network log must show no request leaving 127.0.0.1.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM_FLAGS, chromium_paths
from circuit import circuit_file

from autograd_tiny.cli import main
from autograd_tiny.commands.site import blank_worksheets
from autograd_tiny.commands.worksheet import worksheet
from autograd_tiny.derivation import example_text
from autograd_tiny.errors import UsageError
from autograd_tiny.html.site import PYODIDE_CDN, PYODIDE_VERSION, build_wheel, write_site
from autograd_tiny.practice import check

ROOT = Path(__file__).resolve().parents[1]
PYODIDE = Path(os.environ.get("AUTOGRAD_TINY_PYODIDE", ROOT / "node_modules" / "pyodide"))


EXPRESSION = circuit_file("f = (x + y) * z, with a <b>bold</b> title", '''q = 3
"df/dx" = -4
"df/dy" = 4
"df/dz" = 3
''')


def _cli_json(*args: str, cwd: Path | None = None) -> list[dict[str, Any]]:
    """Return what ``autograd-tiny check ARGS --format json`` prints, parsed."""
    result = subprocess.run([sys.executable, "-m", "autograd_tiny", "check", *args, "--format", "json"],
                            capture_output=True, text=True, cwd=cwd, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return list(json.loads(result.stdout))


# -- without a browser ------------------------------------------------------------------------------

def test_check_gives_the_clis_json(tmp_path: Path) -> None:
    report = check(example_text("seed003"), "", "seed003.toml")
    assert report["results"] == _cli_json("--example", "seed003")
    assert report["first_slip"] == "net_o1" and report["summary"].startswith("11 claims: 4 ok")
    (tmp_path / "e.toml").write_text(EXPRESSION)
    assert check(EXPRESSION)["results"] == _cli_json(str(tmp_path / "e.toml"))
    assert check("x = 1\n", "", "mine.toml")["error"].startswith("mine.toml: x: unknown key; a derivation "
                                                                 "file has title, activation")
    assert check("/etc/passwd", "", "p")["error"].startswith("p: invalid TOML")  # text, never a path


def test_an_expression_example_has_no_network_to_lay_out() -> None:
    # The circuit example (q = x + y, f = q * z): every figure goes in the list, none in a network.
    from autograd_tiny.practice import fields

    layout = fields(example_text("circuit"), "circuit.toml")
    assert layout["layers"] == [] and layout["other"] == ["q", "f", "df/dx", "df/dy", "df/dz", "df/dq",
                                                           "df/df"]


def test_typed_figures_replace_the_files_claims() -> None:
    report = check(example_text("seed003"), "net_h1 = 0.505\nnet_o1 = 0.7946\n", "seed003.toml")
    assert [(r["claim"], r["verdict"]) for r in report["results"]] == [("net_h1", "ok"), ("net_o1", "wrong")]
    assert "line 1" in check(example_text("seed003"), "net_h1 is 0.505\n")["error"]


def test_wheel_is_a_valid_reproducible_wheel(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = build_wheel(tmp_path / "a"), build_wheel(tmp_path / "b")
    assert first.name == "autograd_tiny-0.1.0-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as wheel:
        names = wheel.namelist()
        assert {"autograd_tiny/practice.py", "autograd_tiny/examples/seed003.toml",
                "autograd_tiny/derivation/checker.py", "autograd_tiny-0.1.0.dist-info/WHEEL"} <= set(names)
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        record = wheel.read("autograd_tiny-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            data = wheel.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
        assert len(record) == len(names)


def test_site_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    teacher = tmp_path / "ex1.toml"
    teacher.write_text(EXPRESSION.replace("with a", "</script><script>alert(1)</script> with a"))
    assert main(["site", str(tmp_path / "out"), "--file", str(teacher)]) == 0
    out = tmp_path / "out"
    page = (out / "practice.html").read_text()
    assert PYODIDE_CDN == f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
    assert f'"pyodide": "{PYODIDE_CDN}"' in page and not (out / "pyodide").exists()
    assert page.count("</script>") == 2 and "alert(1)" in page  # the title is in the JSON, escaped
    config = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>', page,
                                  re.S).group(1))
    names = [e["name"] for e in config["examples"]]
    assert names == ["circuit", "momentum", "seed000", "seed002", "seed002_batch", "seed003", "seed004",
                     "sigmoid_neuron", "worksheet-2-2-2", "worksheet-2-1", "ex1"]
    assert config["examples"][-1]["url"] == "files/ex1.toml" and (out / "files" / "ex1.toml").exists()
    assert (out / "examples" / "worksheet-2-2-2.toml").read_text() == \
        worksheet([2, 2, 2], "sigmoid", "half_squared_error", 0.5, 0)[0]
    index = (out / "index.html").read_text()
    assert 'href="practice.html?example=seed003"' in index and "<script" not in index
    assert "&lt;/script&gt;" in index


def test_site_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["site", str(tmp_path / "out"), "--pyodide", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no pyodide.js, pyodide.mjs" in err
    assert f"npm install pyodide@{PYODIDE_VERSION}" in err
    (tmp_path / "bad.toml").write_text("layers = 3\n")
    assert main(["site", str(tmp_path / "out"), "--file", str(tmp_path / "bad.toml")]) == 2
    assert "bad.toml" in capsys.readouterr().err
    (tmp_path / "seed003.toml").write_text(EXPRESSION)
    assert main(["site", str(tmp_path / "out"), "--file", str(tmp_path / "seed003.toml")]) == 2
    assert "another file or example is named 'seed003'; rename one" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")
    with pytest.raises(UsageError, match="is a file; give a directory"):
        write_site(tmp_path / "afile")


# -- in the browser -----------------------------------------------------------------------------------

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the site with the local Pyodide and serve it from 127.0.0.1; yield its base URL."""
    if not (PYODIDE / "pyodide.asm.wasm").is_file():
        pytest.skip(f"the pyodide npm package is not installed (npm install pyodide@{PYODIDE_VERSION}, "
                    "or set AUTOGRAD_TINY_PYODIDE to its folder)")
    out = tmp_path_factory.mktemp("site")
    write_site(out, PYODIDE, worksheets=blank_worksheets())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium that records every request it makes (the performance log)."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    chrome, driver = chromium_paths()
    if chrome is None or driver is None:
        pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('practice-profile')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        yield drv
    finally:
        drv.quit()


def _wait(drv: Any, condition: str, timeout: float = 120.0) -> None:
    """Wait until the JavaScript expression ``condition`` is true (fail with the page's status)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if drv.execute_script(f"return Boolean({condition})"):
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {condition}: {drv.find_element('id', 'status').text}")


def _report(drv: Any) -> tuple[list[dict[str, Any]], list[list[str]], str]:
    """Return the page's results (its JSON), its table's cells and its summary line."""
    results = json.loads(drv.find_element("id", "json").get_attribute("textContent"))
    rows = [[td.text for td in tr.find_elements("tag name", "td")]
            for tr in drv.find_elements("css selector", "#results tbody tr")]
    return results, rows, drv.find_element("id", "summary").text


def _requests(drv: Any) -> list[str]:
    """Return the URLs of every request to the network (http, https, ws, wss) the browser sent since
    the last call (the browser's own chrome:// pages are not on the network)."""
    urls = []
    for entry in drv.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return [u for u in urls if re.match(r"(https?|wss?)://", u)]


def _checks(drv: Any) -> int:
    return int(drv.execute_script("return Number(document.body.dataset.checked || 0)"))


def test_seed003_link_checks_at_once_as_the_cli_does(served: str, browser: Any) -> None:
    browser.get(served + "practice.html?example=seed003")
    _wait(browser, "document.body.dataset.ready && document.body.dataset.checked")
    results, rows, summary = _report(browser)
    cli = _cli_json("--example", "seed003")
    assert results == cli
    assert [row[0] for row in rows] == [r["claim"] for r in cli]
    assert [row[3] for row in rows] == [r["verdict"] for r in cli] and rows[4][3] == "wrong"
    assert [row[4] for row in rows] == [r["hint"] or "" for r in cli]
    assert summary == ("11 claims: 4 ok, 3 follow from earlier figures, 4 wrong. First slip: net_o1 "
                       "(written 0.794609, computed 0.84468077).")
    first = browser.find_elements("css selector", "#results tr.first-slip td")
    assert first[0].text == "net_o1"
    # The file's lesson page (drawn when the site was written) opens beside the verdicts, and
    # shows the same checker's summary.
    lesson = browser.find_element("id", "lesson")
    assert lesson.is_displayed() and lesson.get_attribute("src").endswith("lessons/seed003.html")
    browser.switch_to.frame(lesson)
    _wait(browser, "document.getElementById('summary') && document.getElementById('summary').textContent")
    assert "First slip: net_o1" in browser.find_element("id", "summary").text
    browser.switch_to.default_content()
    times = browser.execute_script("return window.practiceTimes")
    assert times["load"] > 0 and times["firstCheck"] > 0
    urls = _requests(browser)
    assert any(u.endswith("pyodide.asm.wasm") for u in urls) and any(u.endswith(".whl") for u in urls)
    assert all(u.startswith(served) for u in urls), urls


def test_a_pasted_expression_file(served: str, browser: Any, tmp_path: Path) -> None:
    browser.get(served + "practice.html")
    _wait(browser, "document.body.dataset.ready")
    browser.execute_script("document.getElementById('file').value = arguments[0]", EXPRESSION)
    browser.find_element("id", "check").click()
    _wait(browser, "document.body.dataset.checked")
    results, rows, summary = _report(browser)
    (tmp_path / "e.toml").write_text(EXPRESSION)
    assert results == _cli_json(str(tmp_path / "e.toml"))
    assert rows[2] == ["df/dy", "4", "-4", "wrong", "the derivative's sign is flipped: the value is -4"]
    assert summary == "4 claims: 3 ok, 1 wrong. First slip: df/dy (written 4, computed -4)."
    title = browser.find_element("id", "title")
    assert title.text == "f = (x + y) * z, with a <b>bold</b> title"  # shown as text, not markup
    assert not title.find_elements("tag name", "b")
    assert all(u.startswith(served) for u in _requests(browser))


def test_a_worksheet_form_with_one_planted_slip(served: str, browser: Any, tmp_path: Path) -> None:
    blank, answers = worksheet([2, 2, 2], "sigmoid", "half_squared_error", 0.5, 0)
    claims = answers.split("[claims]\n", 1)[1]
    figures = {name: number for name, number in re.findall(r'^"?([^"=\s]+)"? = (\S+)$', claims, re.M)}
    assert len(figures) == 39 and figures["dE/dw5"] == "0.01511180858"
    figures["dE/dw5"] = "-0.01511180858"  # the planted slip: the sign flipped
    browser.get(served + "practice.html?example=worksheet-2-2-2")
    _wait(browser, "document.body.dataset.ready")
    assert browser.find_element("id", "file").get_attribute("value") == blank
    inputs = browser.find_elements("css selector", "#form input[data-claim]")
    # laid out like the network: a box per neuron, the loss, then a row per parameter
    legends = [e.text for e in browser.find_elements("css selector", "#form fieldset legend")]
    assert legends == ["h1", "h2", "o1", "o2"]
    by_claim = {i.get_attribute("data-claim"): i for i in inputs}
    assert sorted(by_claim) == sorted(figures)
    box = browser.find_elements("css selector", "#form fieldset")[2]
    assert [i.get_attribute("data-claim") for i in box.find_elements("tag name", "input")] == \
        ["net_o1", "out_o1", "dE/dout_o1", "dE/dnet_o1"]
    for name, number in figures.items():
        by_claim[name].send_keys(number)
    before = _checks(browser)
    browser.find_element("id", "check").click()
    _wait(browser, f"Number(document.body.dataset.checked) > {before}")
    results, rows, summary = _report(browser)
    filled = "".join(f'"{name}" = {number}\n' for name, number in figures.items())
    (tmp_path / "filled.toml").write_text(blank.split("[claims]")[0] + "[claims]\n" + filled)
    cli = _cli_json(str(tmp_path / "filled.toml"))
    assert sorted(results, key=lambda r: r["claim"]) == sorted(cli, key=lambda r: r["claim"])
    wrong = [r for r in results if r["verdict"] != "ok"]
    assert [r["claim"] for r in wrong] == ["dE/dw5"]
    assert wrong[0]["hint"] == "the derivative's sign is flipped: the value is 0.0151118085773"
    assert [row[4] for row in rows if row[0] == "dE/dw5"] == [wrong[0]["hint"]]
    assert summary.startswith("39 claims: 38 ok, 1 wrong. First slip: dE/dw5")
    assert browser.find_element("id", "first-slip").text == \
        "First slip: dE/dw5 = -0.01511180858: " + wrong[0]["hint"]
    assert by_claim["dE/dw5"].get_attribute("class") == "wrong"
    assert by_claim["dE/dw5"].get_attribute("title") == "wrong: " + wrong[0]["hint"]
    assert {by_claim[n].get_attribute("class") for n in figures if n != "dE/dw5"} == {"ok"}


def test_typed_lines_in_the_text_box(served: str, browser: Any) -> None:
    browser.get(served + "practice.html?example=seed004")
    _wait(browser, "document.body.dataset.ready && document.body.dataset.checked")
    browser.find_element("id", "figures").send_keys("dE/dw5 = 0.0822\nE = 0.2984\nw5+ = 0.40\n")
    before = _checks(browser)
    browser.find_element("id", "check").click()
    _wait(browser, f"Number(document.body.dataset.checked) > {before}")
    results, rows, summary = _report(browser)
    assert [(r["claim"], r["verdict"]) for r in results] == [("dE/dw5", "ok"), ("E", "ok"), ("w5+", "wrong")]
    assert summary.startswith("3 claims: 2 ok, 1 wrong. First slip: w5+")


def test_file_links_stay_on_the_site(served: str, browser: Any) -> None:
    browser.get(served + "practice.html?file=examples/seed004.toml")
    _wait(browser, "document.body.dataset.ready && document.body.dataset.checked")
    results, _, _ = _report(browser)
    assert results == _cli_json("--example", "seed004")
    _requests(browser)
    browser.get(served + "practice.html?file=" + "http://192.0.2.1/answers.toml")
    _wait(browser, "document.body.dataset.ready")
    assert browser.find_element("id", "error").text == \
        '?file= takes a file on this site; "http://192.0.2.1/answers.toml" is on another'
    assert all(u.startswith(served) for u in _requests(browser))
    browser.get(served + "practice.html?example=nosuch")
    _wait(browser, "document.body.dataset.ready")
    error = browser.find_element("id", "error").text
    assert error.startswith('no example "nosuch"; the examples are circuit, momentum, seed000, seed002')


def test_benchmark_smoke_run() -> None:
    if not (PYODIDE / "pyodide.asm.wasm").is_file():
        pytest.skip(f"the pyodide npm package is not installed (npm install pyodide@{PYODIDE_VERSION})")
    if None in chromium_paths():
        pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    command = [sys.executable, "benchmarks/practice.py", "--rounds", "1", "--pyodide", str(PYODIDE)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| seed")]
    assert [row.split("|")[1:3] for row in rows] == [[" seed003 ", " 11 "], [" seed004 ", " 39 "]]
    for row in rows:  # every time was measured: a positive number of milliseconds
        assert all(float(cell.replace(",", "")) > 0 for cell in row.strip("|").split("|")[2:])
