"""The practice site: a static folder whose ``practice.html`` checks derivations in the browser.

:func:`write_site` writes

* ``practice.html``: the page. It loads Pyodide (from :data:`PYODIDE_CDN`, or from a local
  copy of the distribution in ``pyodide/``), unpacks this package's wheel and runs
  :func:`autograd_tiny.practice.check_json`, the same checker as ``autograd-tiny check``;
* ``autograd_tiny-VERSION-py3-none-any.whl``: the package, built from the files of the
  installed package (pure Python; the page needs only its standard-library part);
* ``examples/NAME.toml``: the shipped examples, two blank worksheets, and the teacher's
  files given with ``files``;
* ``index.html``: a link to the page with every example.

No server code: any static host serves it. ``practice.html?example=NAME`` opens a shipped
example or worksheet and checks it at once, ``?file=URL`` a file on the same site. The
page puts every string from a file into the document as text (``textContent``), never as
markup; the site's configuration is JSON in the page with ``<``, ``>`` and ``&`` escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import UsageError

#: The Pyodide version the page is written for (the ``pyodide`` npm package of that version has
#: the files ``--pyodide`` copies: ``npm install pyodide@314.0.7``).
PYODIDE_VERSION = "314.0.7"

#: Where the page loads Pyodide from by default: its official CDN.
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"

#: The files of a Pyodide distribution the page needs (copied by ``--pyodide DIR``).
PYODIDE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm",
                 "python_stdlib.zip", "pyodide-lock.json")

#: The blank worksheets the site offers: name -> (layers, activation, loss).
WORKSHEETS: dict[str, tuple[list[int], str, str]] = {
    "worksheet-2-2-2": ([2, 2, 2], "sigmoid", "half_squared_error"),
    "worksheet-2-1": ([2, 1], "sigmoid", "half_squared_error"),
}

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _record_hash(data: bytes) -> str:
    """Return a wheel RECORD's hash of ``data``: ``sha256=`` and the urlsafe base64 digest."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def build_wheel(out_dir: Path) -> Path:
    """Write this package's wheel (``autograd_tiny-VERSION-py3-none-any.whl``) into ``out_dir``;
    return its path.

    The wheel holds the installed package's files (its modules, the shipped examples,
    ``py.typed``), in name order with a fixed date, so the same package gives the same bytes.
    """
    from .. import __version__

    package = Path(__file__).resolve().parent.parent
    files = sorted(p for p in package.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"))
    dist_info = f"autograd_tiny-{__version__}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: autograd-tiny\nVersion: {__version__}\n"
                "Summary: Scalar reverse-mode autodiff that shows and checks backpropagation.\n"
                "Requires-Python: >=3.11\n")
    wheel_meta = ("Wheel-Version: 1.0\nGenerator: autograd-tiny site\nRoot-Is-Purelib: true\n"
                  "Tag: py3-none-any\n")
    entries = [(f"autograd_tiny/{p.relative_to(package).as_posix()}", p.read_bytes()) for p in files]
    entries += [(f"{dist_info}/METADATA", metadata.encode()), (f"{dist_info}/WHEEL", wheel_meta.encode())]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries)
    record += f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode()))
    path = out_dir / f"autograd_tiny-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return path


def check_pyodide_dir(folder: str | os.PathLike[str]) -> str:
    """Return the version of the Pyodide distribution in ``folder`` ('' when it does not say).

    Raises:
        UsageError: ``folder`` lacks a file the page needs (the message names it and says how
            to get the distribution).
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"--pyodide {str(folder)!r} is not a directory; give the folder of the pyodide "
                         f"npm package (npm install pyodide@{PYODIDE_VERSION}: node_modules/pyodide)")
    missing = [name for name in PYODIDE_FILES if not (root / name).is_file()]
    if missing:
        raise UsageError(f"--pyodide {str(folder)!r} has no {', '.join(missing)}; give the folder of the "
                         f"pyodide npm package (npm install pyodide@{PYODIDE_VERSION}: node_modules/pyodide)")
    try:
        version = json.loads((root / "package.json").read_text(encoding="utf-8")).get("version", "")
    except (OSError, ValueError):
        return ""
    return str(version)


def _json_for_script(value: Any) -> str:
    """Return ``value`` as JSON that is safe inside a ``<script>`` element (no ``<``, ``>`` or ``&``)."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def write_site(out_dir: str | os.PathLike[str], pyodide: str | os.PathLike[str] | None = None,
               files: list[str] | None = None, worksheets: Mapping[str, str] | None = None) -> Path:
    """Write the practice site into ``out_dir`` (created when missing); return the page's path.

    Args:
        out_dir: the folder to write.
        pyodide: a local copy of the Pyodide distribution (the ``pyodide`` npm package's folder),
            copied into ``out_dir/pyodide/`` so that the site works offline; None loads
            Pyodide from :data:`PYODIDE_CDN`.
        files: a teacher's derivation files to offer besides the shipped examples (each is
            checked first).
        worksheets: blank worksheets to offer, name -> file text (the ``site`` command passes
            :data:`WORKSHEETS` made by the worksheet generator, which lives above this layer).

    Raises:
        UsageError: ``out_dir`` is a file, ``pyodide`` lacks a file, or a teacher's file is not
            a valid derivation file.
    """
    from ..derivation import example_names, example_text, from_text
    from .page import to_html

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out_dir!s} is a file; give a directory (it is created if missing)")
    if pyodide is not None:
        check_pyodide_dir(pyodide)
    teacher: list[tuple[str, str, str]] = []
    for f in files or []:
        path = Path(f)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--file {f!r}: cannot read it as UTF-8 text ({exc})") from None
        if path.stem in {name for name, _, _ in teacher} | set(example_names()) | set(WORKSHEETS):
            raise UsageError(f"--file {f!r}: another file or example is named {path.stem!r}; rename one")
        teacher.append((path.stem, text, from_text(text, str(path)).title or path.stem))

    (out / "examples").mkdir(parents=True, exist_ok=True)
    examples: list[dict[str, str]] = []
    for name in example_names():
        text = example_text(name)
        (out / "examples" / f"{name}.toml").write_text(text, encoding="utf-8")
        examples.append({"name": name, "title": from_text(text, name).title, "kind": "example"})
    for name, blank in (worksheets or {}).items():
        (out / "examples" / f"{name}.toml").write_text(blank, encoding="utf-8")
        examples.append({"name": name, "title": from_text(blank, name).title, "kind": "worksheet"})
    if teacher:
        (out / "files").mkdir(exist_ok=True)
    for stem, text, title in teacher:
        (out / "files" / f"{stem}.toml").write_text(text, encoding="utf-8")
        examples.append({"name": stem, "title": title, "kind": "file", "url": f"files/{stem}.toml"})
    # Each file's lesson page, drawn here (Graphviz is not in the browser), opens beside the
    # verdicts when that file is picked.
    (out / "lessons").mkdir(exist_ok=True)
    for entry in examples:
        source = out / (entry.get("url") or f"examples/{entry['name']}.toml")
        lesson = f"lessons/{entry['name']}.html"
        to_html(from_text(source.read_text(encoding="utf-8"), source.name), out / lesson)
        entry["lesson"] = lesson

    wheel = build_wheel(out)
    if pyodide is not None:
        target = out / "pyodide"
        target.mkdir(exist_ok=True)
        for name in (*PYODIDE_FILES, "package.json"):
            if (Path(pyodide) / name).is_file():
                shutil.copyfile(Path(pyodide) / name, target / name)
        index_url = "pyodide/"
    else:
        index_url = PYODIDE_CDN
    config = {"pyodide": index_url, "wheel": wheel.name, "examples": examples}
    page = out / "practice.html"
    page.write_text(practice_page(config), encoding="utf-8")
    links = "".join(f'<li><a href="{html.escape(_practice_link(e))}">{html.escape(e["name"])}</a>: '
                    f"{html.escape(e['title'])}</li>" for e in examples)
    (out / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Backpropagation practice'
        '</title></head><body><h1>Backpropagation practice</h1><p><a href="practice.html">The practice '
        f"page</a>: check a derivation's figures in the browser.</p><ul>{links}</ul></body></html>\n",
        encoding="utf-8")
    return page


def _practice_link(entry: dict[str, str]) -> str:
    """Return the page's link that opens an example (``?example=NAME``) or a file (``?file=URL``)."""
    if "url" in entry:
        return "practice.html?file=" + quote(entry["url"], safe="/")
    return "practice.html?example=" + quote(entry["name"], safe="")


def practice_page(config: dict[str, Any]) -> str:
    """Return the practice page's HTML with ``config`` (Pyodide's URL, the wheel, the examples) in it."""
    return _PAGE.replace("__CONFIG__", _json_for_script(config)).replace("__SCRIPT__", _SCRIPT)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backpropagation practice</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1150px; color: #1f2328; }
textarea { width: 100%; font-family: ui-monospace, monospace; font-size: 13px; box-sizing: border-box; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 0.5em; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; vertical-align: top; }
.ok { color: #1a7f37; font-weight: bold; } .follows { color: #9a6700; font-weight: bold; }
.wrong { color: #cf222e; font-weight: bold; } #error { color: #cf222e; white-space: pre-wrap; }
#status { color: #59636e; } button { font-size: 15px; padding: 4px 16px; }
#json { display: none; } tr.first-slip td { background: #fff1f0; }
#report { margin-top: 1em; } #summary { font-weight: bold; }
#lesson { width: 100%; height: 720px; border: 1px solid #bbb; box-sizing: border-box; }
#first-slip { background: #fff1f0; border-left: 4px solid #cf222e; padding: 4px 8px; }
#first-slip:empty { display: none; }
#form .net { display: grid; gap: 0.8em; } #form fieldset { margin: 0 0 0.5em; padding: 4px 8px; }
#form label { display: grid; grid-template-columns: 8.5em 1fr; gap: 4px; font-size: 13px; margin: 2px 0; }
#form input { font-family: ui-monospace, monospace; font-size: 13px; width: 100%; box-sizing: border-box; }
#form input.ok { border: 2px solid #1a7f37; } #form input.follows { border: 2px solid #9a6700; }
#form input.wrong { border: 2px solid #cf222e; } #form h4 { margin: 0.6em 0 0.3em; }
#form table input { width: 9em; }
</style></head><body>
<h1>Backpropagation practice</h1>
<p id="status">Loading the checker...</p>
<div class="cols">
<div>
<label for="example">Exercise:</label>
<select id="example"><option value="">(paste a derivation file below)</option></select>
<h3>The derivation file</h3>
<textarea id="file" rows="16" spellcheck="false"></textarea>
<div id="report">
<p id="title"></p>
<p id="summary"></p>
<p id="first-slip"></p>
<table id="results"><thead><tr><th>claim</th><th>written</th><th>computed</th><th>verdict</th>
<th>hint</th></tr></thead><tbody></tbody></table>
<pre id="json"></pre>
</div>
</div>
<div>
<h3>Your figures</h3>
<div id="form"></div>
<p>Or type them, one a line, with the claim names of derivation files (with nothing filled in,
the file's own claims are checked):</p>
<textarea id="figures" rows="10" spellcheck="false"
 placeholder="net_h1 = 0.3775&#10;dE/dw5 = 0.0822"></textarea>
<p><button id="check" disabled>Check</button></p>
<p id="error"></p>
</div>
</div>
<section id="lesson-section" hidden><h3>The lesson page of this file
(<a id="lesson-open" target="_blank" rel="noopener">open it alone</a>)</h3>
<iframe id="lesson" title="The lesson page"></iframe></section>
<script type="application/json" id="config">__CONFIG__</script>
<script>__SCRIPT__</script>
</body></html>
"""

_SCRIPT = r"""
"use strict";
const CONFIG = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
const times = { start: performance.now() };
window.practiceTimes = times;
let checkJson = null;
let fieldsJson = null;
let source = "<text>";
let lesson = null;  // the picked file's lesson page, drawn when the site was written

function say(text) { $("status").textContent = text; }

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(s);
  });
}

function computedText(value, written) {
  if (value === null) return "nan or inf";
  const digits = (written.replace(/^[+-]/, "").replace(/[eE].*$/, "").replace(".", "")
    .replace(/^0+/, "").length || 1) + 2;
  return String(Number(value.toPrecision(Math.min(digits, 17))));
}

function show(report) {
  const body = $("results").tBodies[0];
  body.replaceChildren();
  $("error").textContent = report.error || "";
  $("title").textContent = report.title || "";
  $("summary").textContent = report.summary || "";
  $("json").textContent = report.results ? JSON.stringify(report.results) : "";
  const slip = (report.results || []).find((r) => r.claim === report.first_slip);
  $("first-slip").textContent = slip ? ("First slip: " + slip.claim + " = " + slip.written
    + (slip.hint ? ": " + slip.hint : "")) : "";
  for (const r of report.results || []) {
    const row = body.insertRow();
    for (const text of [r.claim, r.written, computedText(r.computed, r.written), r.verdict, r.hint || ""]) {
      row.insertCell().textContent = text;
    }
    row.cells[3].className = r.verdict;
    if (r.claim === report.first_slip) row.className = "first-slip";
  }
}

function field(name, label) {
  const wrapper = document.createElement("label");
  const text = document.createElement("span");
  text.textContent = label === undefined ? name : label;
  const input = document.createElement("input");
  input.type = "text";
  input.dataset.claim = name;
  input.autocomplete = "off";
  wrapper.append(text, input);
  return wrapper;
}

function heading(text) {
  const h = document.createElement("h4");
  h.textContent = text;
  return h;
}

function buildForm() {
  const form = $("form");
  form.replaceChildren();
  if (fieldsJson === null || !$("file").value.trim()) return;
  const layout = JSON.parse(fieldsJson($("file").value, source));
  if (layout.error) return;
  if (layout.layers.length > 1) {
    form.append(heading("Forward and backward pass, neuron by neuron"));
    const net = document.createElement("div");
    net.className = "net";
    net.style.gridTemplateColumns = "repeat(" + (layout.layers.length - 1) + ", 1fr)";
    for (const layer of layout.layers.slice(1)) {
      const column = document.createElement("div");
      for (const neuron of layer) {
        const box = document.createElement("fieldset");
        const legend = document.createElement("legend");
        legend.textContent = neuron;
        box.append(legend);
        for (const name of layout.neurons[neuron] || []) box.append(field(name));
        column.append(box);
      }
      net.append(column);
    }
    form.append(net);
  }
  if (layout.loss.length) {
    form.append(heading("Loss"));
    for (const name of layout.loss) form.append(field(name));
  }
  if (layout.parameters.length) {
    form.append(heading("Gradients and the step"));
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const text of ["parameter", "gradient", "after the step"]) {
      const th = document.createElement("th");
      th.textContent = text;
      head.append(th);
    }
    const body = table.createTBody();
    for (const [param, gradient, after] of layout.parameters) {
      const row = body.insertRow();
      row.insertCell().textContent = param;
      for (const name of [gradient, after]) {
        const cell = row.insertCell();
        if (name) {
          const input = field(name, "").querySelector("input");
          input.title = name;
          input.setAttribute("aria-label", name);
          cell.append(input);
        }
      }
    }
    form.append(table);
  }
  if (layout.other.length) {
    form.append(heading(layout.layers.length ? "Other figures" : "Figures"));
    for (const name of layout.other) form.append(field(name));
  }
}

function figuresText() {
  const lines = [];
  for (const input of $("form").querySelectorAll("input[data-claim]")) {
    if (input.value.trim()) lines.push(input.dataset.claim + " = " + input.value.trim());
  }
  return lines.join("\n") + "\n" + $("figures").value;
}

function markForm(report) {
  const byClaim = new Map((report.results || []).map((r) => [r.claim, r]));
  for (const input of $("form").querySelectorAll("input[data-claim]")) {
    const r = byClaim.get(input.dataset.claim);
    input.className = r && input.value.trim() ? r.verdict : "";
    input.title = r && input.value.trim() ? (r.verdict + (r.hint ? ": " + r.hint : "")) : input.dataset.claim;
  }
}

function check() {
  if (checkJson === null) return;
  const t0 = performance.now();
  const report = JSON.parse(checkJson($("file").value, figuresText(), source));
  show(report);
  markForm(report);
  $("lesson-section").hidden = lesson === null;
  if (lesson !== null && $("lesson").getAttribute("src") !== lesson) {
    $("lesson").setAttribute("src", lesson);
    $("lesson-open").setAttribute("href", lesson);
  }
  if (times.firstCheck === undefined) times.firstCheck = performance.now() - t0;
  times.lastCheck = performance.now() - t0;
  document.body.dataset.checked = String(Number(document.body.dataset.checked || 0) + 1);
}

async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ": " + response.status + " " + response.statusText);
  return await response.text();
}

async function openExample(name) {
  const entry = CONFIG.examples.find((e) => e.name === name);
  if (!entry) throw new Error("no example " + JSON.stringify(name) + "; the examples are "
    + CONFIG.examples.map((e) => e.name).join(", "));
  $("example").value = name;
  $("file").value = await fetchText(entry.url || ("examples/" + name + ".toml"));
  source = name + ".toml";
  lesson = entry.lesson || null;
}

async function openFile(url) {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) {
    throw new Error("?file= takes a file on this site; " + JSON.stringify(url) + " is on another");
  }
  $("file").value = await fetchText(target.href);
  source = target.pathname.split("/").pop() || "<text>";
}

async function start() {
  for (const e of CONFIG.examples) {
    const option = document.createElement("option");
    option.value = e.name;
    option.textContent = e.name + ": " + e.title;
    $("example").appendChild(option);
  }
  $("example").addEventListener("change", async () => {
    try {
      if ($("example").value) await openExample($("example").value);
      $("figures").value = "";
      buildForm();
      show({});
    } catch (err) { show({ error: String(err.message || err) }); }
  });
  $("file").addEventListener("input", () => { source = "<text>"; $("example").value = ""; lesson = null; });
  $("file").addEventListener("change", buildForm);
  $("check").addEventListener("click", check);
  const params = new URLSearchParams(location.search);
  try {
    if (params.has("example")) await openExample(params.get("example"));
    else if (params.has("file")) await openFile(params.get("file"));
  } catch (err) { show({ error: String(err.message || err) }); }
  try {
    say("Loading Python in the browser (Pyodide)...");
    await loadScript(CONFIG.pyodide + "pyodide.js");
    const pyodide = await loadPyodide({ indexURL: CONFIG.pyodide });
    times.pyodide = performance.now() - times.start;
    const wheel = await (await fetch(CONFIG.wheel)).arrayBuffer();
    pyodide.unpackArchive(wheel, "zip", { extractDir: "/home/pyodide/wheel" });
    pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/wheel')");
    checkJson = pyodide.runPython("from autograd_tiny.practice import check_json; check_json");
    fieldsJson = pyodide.runPython("from autograd_tiny.practice import fields_json; fields_json");
    times.package = performance.now() - times.start - times.pyodide;
  } catch (err) {
    say("The checker could not start: " + String(err.message || err));
    return;
  }
  times.load = performance.now() - times.start;
  say("Ready: the checker runs in this page (autograd-tiny in Pyodide).");
  $("check").disabled = false;
  buildForm();
  if ((params.has("example") || params.has("file")) && $("file").value) check();
  document.body.dataset.ready = "true";
}

start();
"""
