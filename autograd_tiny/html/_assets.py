# ruff: noqa: E501 - JavaScript and CSS source, kept as written
"""The lesson page's style sheet and script (the parts that do not depend on the graph).

The script reads the graph from the page's JSON (``#stepper-data``) and the operation
table from ``OPS``, which :func:`autograd_tiny.html.jscode.ops_script` generates from
:mod:`autograd_tiny.ops`; it contains no derivative of its own. Every user string
(labels, claim names, titles) reaches the page through ``textContent``, never as markup.
"""

CSS = """
* { box-sizing: border-box; }
body { font: 15px/1.4 Helvetica, Arial, "Liberation Sans", Arimo, sans-serif; margin: 0; color: #222; }
header { position: sticky; top: 0; background: #fafafa; border-bottom: 1px solid #ddd;
         padding: 6px 12px; z-index: 2; }
h1 { font-size: 18px; margin: 2px 0 4px; }
h2 { font-size: 15px; margin: 8px 0 4px; }
#summary { margin: 2px 0 6px; font-size: 15px; }
#summary.has-slip { color: #c62828; }
#summary a { color: inherit; }
#controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
#controls button { font-size: 14px; padding: 2px 8px; }
#step { flex: 1 1 160px; min-width: 120px; }
#step-label { flex: 2 1 300px; color: #333; font-weight: bold; }
#loss { font-weight: bold; margin-left: auto; white-space: nowrap; }
.views button.on { background: #1f5fa8; color: white; border: 1px solid #1f5fa8; }
main { display: grid; grid-template-columns: minmax(0, 1.7fr) minmax(420px, 1fr); gap: 10px;
       padding: 8px 12px; align-items: start; }
#pane { position: relative; overflow: auto; border: 1px solid #e4e4e4; height: 70vh; min-height: 320px; }
#net-view svg { display: block; margin: 0 auto; }
#graph svg { overflow: visible; }
aside { min-width: 0; overflow: auto; }
@media (max-width: 1000px) {
  main { grid-template-columns: minmax(0, 1fr); }
}
#detail { background: #f6f8fa; border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px;
          min-height: 80px; }
#detail h2 { margin-top: 2px; }
#detail .formula { font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 14px;
                   white-space: pre-wrap; overflow-wrap: anywhere; }
#detail p { margin: 4px 0; }
.note { color: #555; font-size: 13px; margin: 2px 0; }
table { border-collapse: collapse; font-size: 14px; }
#claims { width: 100%; table-layout: auto; }
td, th { padding: 2px 4px; text-align: left; border-bottom: 1px solid #eee; vertical-align: top; }
td.num { font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace; text-align: right; }
#claims td.hint { font-size: 13px; color: #444; }
#claims td.num { font-size: 13px; }
#claims td.verdict { white-space: nowrap; }
#claims tr.later td { color: #888; }
#claims tr { cursor: pointer; }
#claims a, #detail a { color: #1f5fa8; }
#values-section { padding: 0 12px 20px; }
#leaves input { width: 120px; font-family: Menlo, Consolas, monospace; font-size: 14px; }
#leaves input.bad { background: #fdd; }
tr.cur { background: #fff3b0; }
.verdict-ok { color: #2e7d32; }
#btn-quiz[aria-pressed="true"] { background: #ffe08a; }
#quiz-input { width: 9em; font: inherit; margin: 0 0.4em; }
#quiz-input.bad { outline: 2px solid #c62828; }
.verdict-wrong { color: #c62828; font-weight: bold; }
.verdict-follows { color: #ef6c00; }
.verdict-edited { color: #777; }
g.node.pending polygon, g.node.pending ellipse { opacity: 0.45; }
g.node.cur polygon, g.node.cur ellipse { stroke: #e65100; stroke-width: 3; }
g.node.claim-wrong polygon { stroke: #c62828; stroke-width: 3; }
g.node.claim-follows polygon { stroke: #ef6c00; stroke-width: 3; }
g.node.claim-ok polygon { stroke: #2e7d32; stroke-width: 2; }
g.edge.active path { stroke: #e65100; stroke-width: 2.5; }
g.edge.active polygon { stroke: #e65100; fill: #e65100; }
#net-view text { font-family: Helvetica, Arial, "Liberation Sans", Arimo, sans-serif; font-size: 14px; }
#net-view text.name { font-weight: bold; font-size: 15px; }
#net-view rect.box { fill: #fff; stroke: #888; stroke-width: 1.2; }
#net-view g.input rect.box { fill: #dae8fc; }
#net-view g.neuron rect.box { fill: #ffe6cc; }
#net-view g.output rect.box { fill: #d5e8d4; }
#net-view g.bias rect.box { fill: #fff2cc; }
#net-view g.loss rect.box { fill: #f8f8f8; }
#net-view rect.label { fill: #fff; stroke: #ccc; stroke-width: 1; }
#net-view line.edge { stroke: #999; stroke-width: 1.3; }
#net-view line.edge.bias-edge { stroke-dasharray: 5 4; stroke: #b09500; }
#net-view line.edge.active { stroke: #e65100; stroke-width: 3; }
#net-view g.cur rect.box { stroke: #e65100; stroke-width: 3.5; }
#net-view g.src rect.box, #net-view g.src rect.label { stroke: #e65100; stroke-width: 2; stroke-dasharray: 4 3; }
#net-view g.wlabel.off { display: none; }
#net-view tspan.pending { fill: #999; }
#net-view tspan.mark-ok { fill: #2e7d32; font-weight: bold; }
#net-view tspan.mark-wrong { fill: #c62828; font-weight: bold; }
#net-view tspan.mark-follows { fill: #ef6c00; font-weight: bold; }
#net-view g.mark-wrong rect.box, #net-view g.mark-wrong rect.label { stroke: #c62828; stroke-width: 3; }
#net-view g.mark-follows rect.box, #net-view g.mark-follows rect.label { stroke: #ef6c00; stroke-width: 3; }
#net-view line.wire { stroke: #555; stroke-width: 2; }
#net-view g.gate rect.box { fill: #f5f5f5; }
#net-view text.op { text-anchor: middle; font-weight: bold; }
#net-view text.grad { fill: #c62828; }
#net-view g.cur line.wire { stroke: #e65100; stroke-width: 4; }
#net-view g.src line.wire { stroke: #e65100; stroke-width: 2.5; stroke-dasharray: 5 3; }
#net-view g.mark-wrong line.wire { stroke: #c62828; stroke-width: 4; }
#net-view g.mark-follows line.wire { stroke: #ef6c00; stroke-width: 4; }
.yours { color: #6a1b9a; font-style: italic; }
#net-view tspan.yours { fill: #6a1b9a; font-style: italic; }
g.node.slipped polygon, g.node.slipped ellipse { stroke: #6a1b9a; stroke-width: 3; stroke-dasharray: 6 3; }
button.yours-btn { font-size: 12px; padding: 0 5px; margin-left: 4px; color: #6a1b9a;
                   border: 1px solid #6a1b9a; background: #faf5fc; border-radius: 3px; cursor: pointer; }
button.yours-btn[aria-pressed="true"] { background: #6a1b9a; color: #fff; }
#detail .formula.yours { border-left: 3px solid #6a1b9a; }
#tooltip { position: fixed; background: #fffbe6; border: 1px solid #c9b458; padding: 4px 8px;
           font: 13px Menlo, Consolas, monospace; pointer-events: none; z-index: 5;
           white-space: pre; max-width: 640px; }
"""

SCRIPT = r"""
(function () {
"use strict";
const D = JSON.parse(document.getElementById("stepper-data").textContent);
const SPECIAL = {"nan": NaN, "inf": Infinity, "-inf": -Infinity};
const num = (v) => (typeof v === "string" ? SPECIAL[v] : v);
const nodes = D.nodes;
const N = nodes.length;
const ROOT = N - 1;
nodes.forEach((n) => {
  n.args = n.args.map((a) => (a[0] === "v" ? {v: a[1]} : {c: num(a[1])}));
  n.fileData = num(n.data);
});

// ---- numbers --------------------------------------------------------------------------
function gfmt(x, p) {  // Python's format(x, ".{p}g")
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [m, ex] = x.toExponential(p - 1).split("e");
  const e = parseInt(ex, 10);
  const trim = (s) => (s.indexOf(".") >= 0 ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (e < -4 || e >= p) {
    return trim(m) + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  return trim(x.toFixed(Math.max(0, p - 1 - e)));
}
function dfmt(x, d) {  // the pictures' format: d decimals, significant digits when that shows 0
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const s = x.toFixed(d);
  if (!/[1-9]/.test(s)) return x !== 0 ? gfmt(x, Math.max(d, 1)) : s.replace("-", "");
  return s;
}
const show9 = (x) => gfmt(x, 9);
const show6 = (x) => gfmt(x, 6);
const operandText = (x) => (x < 0 || Object.is(x, -0) ? "(" + show6(x) + ")" : show6(x));
const full = (x) => String(x);  // shortest text that reads back as the same double

// ---- the computation (OPS is generated from the operation table) ------------------------
const leaf = nodes.map((n) => (n.op ? null : n.fileData));
let data = new Array(N).fill(0);
let grad = new Array(N).fill(0);
function operands(i) {
  const o = nodes[i].args.map((a) => (a.v !== undefined ? data[a.v] : a.c));
  return [o[0], o.length > 1 ? o[1] : 0];
}
function compute() {
  for (let i = 0; i < N; i++) {
    const n = nodes[i];
    if (!n.op) { data[i] = leaf[i]; continue; }
    const [x, y] = operands(i);
    data[i] = OPS[n.op].f(x, y);
  }
  grad = new Array(N).fill(0);
  grad[ROOT] = 1;
  for (let i = N - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.op) continue;
    const [x, y] = operands(i);
    n.args.forEach((a, p) => {
      if (a.v !== undefined) grad[a.v] += OPS[n.op].c[p](grad[i], x, y, data[i]);
    });
  }
}
// A factor dM/dN: the sum over its routes of the product of the table's local derivatives.
function factor(k) {
  let total = 0;
  D.factors[k].forEach((route) => {
    let prod = 1;
    route.forEach(([i, p]) => {
      const [x, y] = operands(i);
      prod *= OPS[nodes[i].op].d[p](x, y, data[i]);
    });
    total += prod;
  });
  return total;
}
// What Value i's gradient passes down factor k's routes, as backward computes it (a structural
// zero of the table passes 0 even from an infinite gradient; 1 / x divides).
function term(i, k) {
  let total = 0;
  D.factors[k].forEach((route) => {
    let g = grad[i];
    route.forEach(([j, p]) => {
      const [x, y] = operands(j);
      g = OPS[nodes[j].op].c[p](g, x, y, data[j]);
    });
    total += g;
  });
  return total;
}
const UPD = D.update || {rate: 0, decay: 0, trained: {}};
let yoursUpdate = null;  // while a slip's numbers are written out: its updated parameters
function updated(i) {  // a parameter after one step of gradient descent
  if (yoursUpdate && yoursUpdate.has(i)) return yoursUpdate.get(i);
  if (!UPD.trained[String(i)]) return data[i];
  return data[i] - UPD.rate * (UPD.decay ? grad[i] + UPD.decay * data[i] : grad[i]);
}

// ---- the steps ------------------------------------------------------------------------
const steps = D.steps;
const LAST = steps.length - 1;
const dataStep = D.dataStep;
const gradStep = D.gradStep.map((s) => (s === null ? Infinity : s));
const updStep = new Array(N).fill(Infinity);
steps.forEach((st, k) => { if (st.kind === "update") updStep[st.node] = k; });
let step = 0;
// ---- quiz mode: a step's number stays hidden until the reader types a figure --------------
let quiz = false;
let seen = 0;  // the last step whose numbers are shown (the step before, while a quiz waits)
const answers = {};  // step -> {text, ok}
function quizTarget(s) {  // the number step s computes, and its name; null for none
  const st = steps[s];
  if (!st || st.node === null || st.node === undefined) return null;
  const n = st.node, name = nodes[n].name;
  if (st.kind === "forward" || st.kind === "loss") return {value: data[n], name: name};
  if (st.kind === "backward") return {value: grad[n], name: "d" + nodes[ROOT].name + "/d" + name};
  if (st.kind === "update") return {value: updated(n), name: name + "+"};
  return null;
}
function quizWaits(s) { return quiz && s > 0 && answers[s] === undefined && quizTarget(s) !== null; }
// within(written, value, unit, negative): the checker's own precision rule, translated from
// autograd_tiny.derivation.checker.within when the page is written (see page.py)
function judge(text, value) {  // the checker's precision rule (within) on a typed figure
  const t = String(text).trim().replace(/_/g, "");
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m || (m[2] + (m[3] || "")) === "" || !isFinite(value)) return null;
  const unit = Math.pow(10, parseInt(m[4] || "0", 10) - (m[3] || "").length);
  return within(Number(t), value, unit, m[1] === "-");
}
window.judgeFigure = judge;  // the quiz's judge, callable from outside the page's script
function tokenText(t) {
  if (typeof t === "string") return t;
  const i = t[1];
  switch (t[0]) {
    case "d": return operandText(data[i]);
    case "r": return show9(data[i]);
    case "g": return operandText(grad[i]);
    case "G": return show9(grad[i]);
    case "f": return operandText(factor(i));
    case "t": return operandText(term(i, t[2]));
    case "u": return show9(updated(i));
  }
  return "";
}
const lineText = (line) => line.map(tokenText).join("");
const PHASES = {start: "start", forward: "forward pass", loss: "the loss", backward: "backward pass",
                update: "update"};

// ---- claims ---------------------------------------------------------------------------
const claims = D.claims;
const claimsAt = {};
claims.forEach((c, k) => { c.k = k; (claimsAt[c.step] = claimsAt[c.step] || []).push(c); });
let edited = false;
const shownVerdict = (c) => (edited ? "edited" : c.verdict);
// ---- your numbers: a hinted slip replayed through the step (page.py, html/slips.py) ------
// A wrong claim with a hint carries the numbers of the step replayed with its slip: every
// value, gradient and update the slip changes. Toggled per claim; shown from the claim's step
// on, each number once the page reaches the step that computes it, beside the true one.
let yours = null;  // the claim whose slip is shown, or null
claims.forEach((c) => {
  if (!c.yours) return;
  const m = (list) => new Map(list.map(([i, v]) => [i, num(v)]));
  c.yours.maps = {data: m(c.yours.data), grad: m(c.yours.grad), update: m(c.yours.update)};
});
const yoursOn = () => yours !== null && !edited && seen >= yours.step;
function yourNumber(i, field) {  // the slip's number for Value i's data, grad or update, when shown
  if (!yoursOn()) return undefined;
  const m = yours.yours.maps[field];
  if (!m || !m.has(i)) return undefined;
  const at = field === "data" ? dataStep[i] : field === "grad" ? gradStep[i] : updStep[i];
  return at <= seen ? m.get(i) : undefined;
}
function withYours(fn) {  // run fn with the slip's numbers in place of the true ones
  const d0 = data, g0 = grad;
  data = d0.slice();
  grad = g0.slice();
  yours.yours.maps.data.forEach((v, i) => { data[i] = v; });
  yours.yours.maps.grad.forEach((v, i) => { grad[i] = v; });
  yoursUpdate = yours.yours.maps.update;
  try { return fn(); } finally { data = d0; grad = g0; yoursUpdate = null; }
}
function toggleYours(c) {
  yours = yours === c ? null : c;
  if (netSvg) PICTURE();  // the boxes are measured again, with room for the slip's numbers
  setView(view);
}
function yoursButton(c) {
  const b = el("button", yours === c ? "hide your numbers" : "your numbers", "yours-btn");
  b.dataset.claim = c.name;
  b.setAttribute("aria-pressed", String(yours === c));
  b.title = "replay the slip: your numbers beside the true ones, from this step on";
  b.addEventListener("click", (ev) => { ev.stopPropagation(); stop(); toggleYours(c); });
  return b;
}

// ---- helpers --------------------------------------------------------------------------
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
const SVGNS = "http://www.w3.org/2000/svg";
function sel(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  Object.keys(attrs || {}).forEach((k) => e.setAttribute(k, attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function stepLink(k, text) {
  const a = el("a", text);
  a.href = "#step=" + k;
  a.addEventListener("click", (ev) => { ev.preventDefault(); stop(); go(k); });
  return a;
}

// ---- the operation graph (Graphviz) ---------------------------------------------------
const pane = document.getElementById("pane");
const graphBox = document.getElementById("graph");
const svgNodes = {};
const svgEdges = [];
// Graphviz writes each node's name (v<i>, v<i>_op, n<k>) in its <title>; the titles are removed
// once read, so that the browser's own tooltip does not show them over the page's.
graphBox.querySelectorAll("g.node").forEach((g) => {
  const t = g.querySelector("title");
  if (t) { svgNodes[t.textContent] = g; t.remove(); }
});
graphBox.querySelectorAll("g.edge").forEach((g) => {
  const t = g.querySelector("title");
  if (!t) return;
  const m = t.textContent.split("->");
  if (m.length === 2) svgEdges.push({g: g, from: m[0].split(":")[0], to: m[1].split(":")[0]});
  t.remove();
});
graphBox.querySelectorAll("g.graph > title, g.cluster > title").forEach((t) => t.remove());
function fieldText(g, prefix) {
  for (const t of g.querySelectorAll("text")) {
    if (t.textContent.startsWith(prefix)) return t;
  }
  return null;
}
nodes.forEach((n, i) => {
  const g = n.svg ? svgNodes[n.svg] : null;
  n.g = g || null;
  n.opg = g && n.show === "record" ? (svgNodes[n.svg + "_op"] || null) : null;
  if (g && n.show === "record") {
    n.tData = fieldText(g, "data ");
    n.tGrad = fieldText(g, "grad ");
  } else if (g && n.show === "neuron") {
    n.tData = fieldText(g, "out ");
    n.tGrad = fieldText(g, "grad ");
  }
  if (g && n.show !== "member") {
    g.addEventListener("mousemove", (ev) => showTip(ev, i));
    g.addEventListener("mouseleave", hideTip);
    if (!n.op) g.addEventListener("click", () => focusLeaf(i));
  }
  if (n.opg) {
    n.opg.addEventListener("mousemove", (ev) => showTip(ev, i));
    n.opg.addEventListener("mouseleave", hideTip);
  }
});
const tip = document.getElementById("tooltip");
function showTip(ev, i) {
  const n = nodes[i];
  const lines = [];
  if (n.op) {
    const st = steps[dataStep[i]];
    if (st && st.node === i) lines.push(...st.lines.map(lineText));
    else lines.push(n.name + " = " + show9(data[i]));
  } else {
    lines.push(n.name + " = " + show9(data[i]) + " (" + n.role + ")");
  }
  tip.textContent = lines.join("\n");
  tip.hidden = false;
  tip.style.left = (ev.clientX + 14) + "px";
  tip.style.top = (ev.clientY + 14) + "px";
}
function hideTip() { tip.hidden = true; }

const gsvg = graphBox.querySelector("svg");
const baseW = gsvg ? parseFloat(gsvg.getAttribute("width")) : 0;
const baseH = gsvg ? parseFloat(gsvg.getAttribute("height")) : 0;
let zoom = 1;
// The smallest font in the drawing, in its own units (points): no zoom makes it smaller than 11 px.
let smallest = 14;
if (gsvg) graphBox.querySelectorAll("text").forEach((t) => {
  const f = parseFloat(t.getAttribute("font-size"));
  if (f > 0 && f < smallest) smallest = f;
});
const READABLE = 11 / (smallest * 4 / 3);
function setZoom(z) {
  if (!gsvg || !(baseW > 0 && baseH > 0)) return;
  zoom = Math.min(4, Math.max(READABLE, z));
  gsvg.setAttribute("width", (baseW * zoom) + "pt");
  gsvg.setAttribute("height", (baseH * zoom) + "pt");
}
const fitZoom = () => (baseW > 0 ? Math.min((pane.clientWidth - 8) / (baseW * 4 / 3),
                                             (pane.clientHeight - 8) / (baseH * 4 / 3)) : 1);
document.getElementById("btn-zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("btn-zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
document.getElementById("btn-zoom-fit").addEventListener("click", () => setZoom(Math.min(1.5, fitZoom())));
function follow(g) {  // scroll the pane so that the current element is in view
  const b = g.getBoundingClientRect();
  const c = pane.getBoundingClientRect();
  if (b.width === 0 && b.height === 0) return;
  if (b.left < c.left || b.right > c.right) pane.scrollLeft += (b.left + b.right) / 2 - (c.left + c.right) / 2;
  if (b.top < c.top || b.bottom > c.bottom) pane.scrollTop += (b.top + b.bottom) / 2 - (c.top + c.bottom) / 2;
}

// ---- the network view -----------------------------------------------------------------
// A batch has one network per sample (the same weights, each sample's inputs and neurons).
const NETS = D.network ? D.network.samples : null;
let NET = NETS ? NETS[0] : null;
let sampleNo = 0;
const sampleBox = document.getElementById("sample");
function setSample(k) {
  if (!NETS || k === sampleNo || k < 0 || k >= NETS.length) return;
  sampleNo = k;
  NET = NETS[k];
  sampleBox.value = String(k);
  if (netSvg) buildNetwork();
}
const netBox = document.getElementById("net-view");
const netEls = {};      // Value index -> the network elements that show it
const netLines = [];    // every line of text that shows a number: {t, idx, field, prefix, claims}
const netEdges = [];    // {line, label, w, from, to}
let netSvg = null;
const MIN_SCALE = 11.2 / 14;
const MAX_SCALE = 1.6;
const COMPACT = 4;
function buildNetwork() {
  netBox.textContent = "";
  netLines.length = 0;
  netEdges.length = 0;
  Object.keys(netEls).forEach((k) => delete netEls[k]);
  const svg = sel("svg", {"class": "network"});
  netBox.appendChild(svg);
  netSvg = svg;
  const LH = 19, PADX = 9, PADY = 6;
  const claimsFor = (idx, field) => claims.filter((c) => c.node === idx && c.field === field);
  function box(cls, lines, idxs) {
    // lines: [{text} | {idx, field, prefix}]; returns {g, w, h, place(x, y)}
    const g = sel("g", {"class": "nbox " + cls});
    const rect = sel("rect", {"class": "box", rx: 7, ry: 7});
    g.appendChild(rect);
    const texts = lines.map((ln, k) => {
      const t = sel("text", {"class": k === 0 && ln.text !== undefined ? "name" : "val"});
      g.appendChild(t);
      if (ln.text !== undefined) t.textContent = ln.text;
      else {
        const rec = {t: t, idx: ln.idx, field: ln.field, prefix: ln.prefix, claims: claimsFor(ln.idx, ln.field)};
        netLines.push(rec);
        writeLine(rec, true);
      }
      return t;
    });
    svg.appendChild(g);
    const w = Math.max(...texts.map((t) => t.getComputedTextLength())) + 2 * PADX;
    const h = texts.length * LH + 2 * PADY - 4;
    const item = {g: g, w: w, h: h, x: 0, y: 0, place: (x, y) => {
      item.x = x; item.y = y;
      rect.setAttribute("x", x); rect.setAttribute("y", y);
      rect.setAttribute("width", w); rect.setAttribute("height", h);
      texts.forEach((t, k) => { t.setAttribute("x", x + PADX); t.setAttribute("y", y + PADY + 14 + k * LH); });
    }};
    (idxs || []).forEach((i) => { (netEls[i] = netEls[i] || []).push(g); });
    return item;
  }
  const name = (i) => nodes[i].name;
  const hasUpd = (i) => updStep[i] < Infinity;
  // columns: inputs, then each layer; the biases of layer c sit under column c - 1
  const cols = [NET.inputs.map((i) => box("input", [{idx: i, field: "data", prefix: name(i) + " = "}], [i]))];
  const neuronBox = {};
  // Layers of more than COMPACT neurons show each neuron's output and delta only.
  const compact = Math.max(...NET.columns.map((layer) => layer.length)) > COMPACT;
  NET.columns.forEach((layer, c) => {
    const last = c === NET.columns.length - 1;
    cols.push(layer.map(([net, out, nm]) => {
      const lines = [{text: nm}];
      if (!compact || out === net) lines.push({idx: net, field: "data", prefix: "net "});
      if (out !== net) lines.push({idx: out, field: "data", prefix: "out "});
      if (out !== net && !compact) lines.push({idx: out, field: "grad", prefix: "dE/dout "});
      lines.push({idx: net, field: "grad", prefix: "dE/dnet "});
      const b = box(last ? "neuron output" : "neuron", lines, [net, out]);
      neuronBox[net] = b; neuronBox[out] = b;
      return b;
    }));
  });
  const sourceBox = {};
  NET.inputs.forEach((i, k) => { sourceBox[i] = cols[0][k]; });
  NET.columns.forEach((layer, c) => layer.forEach(([net, out], k) => { sourceBox[out] = cols[c + 1][k]; }));
  // In a compact picture a neuron's own bias has no box (its neuron stands for it).
  const biasBoxes = NET.biases.filter(([b, nets]) => {
    if (!compact || nets.length > 1) return true;
    (netEls[b] = netEls[b] || []).push(neuronBox[nets[0]].g);
    return false;
  }).map(([b, nets]) => {
    const lines = [{idx: b, field: "data", prefix: name(b) + " = "}, {idx: b, field: "grad", prefix: "d" + nodes[ROOT].name + "/d" + name(b) + " "}];
    if (hasUpd(b)) lines.push({idx: b, field: "update", prefix: name(b) + "+ = "});
    const item = box("bias", lines, [b]);
    const colOf = NET.columns.findIndex((layer) => layer.some(([net]) => nets.indexOf(net) >= 0));
    cols[Math.max(0, colOf)].push(item);
    item.nets = nets;
    return item;
  });
  const lossLines = NET.loss.map((i) => ({idx: i, field: "data", prefix: name(i) + " = "}));
  NET.targets.forEach((t) => lossLines.push({text: t}));
  if (lossLines.length && lossLines[0].text === undefined) lossLines.unshift({text: "loss"});
  const lossBox = lossLines.length ? box("loss", lossLines, NET.loss) : null;
  if (lossBox) cols.push([lossBox]);
  // weights: a label on each edge
  const edges = NET.edges.map(([w, from, to]) => {
    const line = sel("line", {"class": "edge"});
    svg.insertBefore(line, svg.firstChild);
    const lines = [{idx: w, field: "data", prefix: name(w) + " = "},
                   {idx: w, field: "grad", prefix: compact ? "grad " : "d" + nodes[ROOT].name + "/d" + name(w) + " "}];
    if (hasUpd(w)) lines.push({idx: w, field: "update", prefix: name(w) + "+ = "});
    const lab = box("wlabel", lines, [w]);
    lab.g.querySelector("rect").setAttribute("class", "label");
    lab.g.querySelectorAll("text").forEach((t) => t.setAttribute("class", "val"));
    const e = {line: line, label: lab, w: w, from: sourceBox[from], to: neuronBox[to], toIdx: to};
    netEdges.push(e);
    return e;
  });
  const biasEdges = [];
  biasBoxes.forEach((b) => b.nets.forEach((net) => {
    const line = sel("line", {"class": "edge bias-edge"});
    svg.insertBefore(line, svg.firstChild);
    biasEdges.push({line: line, from: b, to: neuronBox[net]});
  }));
  const lossEdges = [];
  if (lossBox) NET.columns[NET.columns.length - 1].forEach(([net, out]) => {
    const line = sel("line", {"class": "edge"});
    svg.insertBefore(line, svg.firstChild);
    lossEdges.push({line: line, from: neuronBox[out], to: lossBox});
  });

  // Layout, left to right: each column of boxes, then (for a layer of neurons) the labels of
  // the weights into each neuron, stacked in front of it, so that no label crosses another.
  const W = pane.clientWidth - 4, H = pane.clientHeight - 4;
  const M = 6, FAN = compact ? 18 : 38, STACK_GAP = 6, LGAP = compact ? 6 : 10;
  const SLOT_GAP = Math.max(...cols.map((c) => c.length)) > COMPACT ? 10 : 26;
  const into = {};
  edges.forEach((e) => {
    (into[e.toIdx] = into[e.toIdx] || []).push(e);
    e.tail = sel("line", {"class": "edge"});
    svg.insertBefore(e.tail, svg.firstChild);
  });
  const layerOf = (c) => (c >= 1 && c <= NET.columns.length ? NET.columns[c - 1] : null);
  // Stacked labels need height; a network with more weights than fit is drawn without them
  // (the current step's labels are shown on its edges).
  let stacked = true;
  const slotH = (c, b) => {
    const layer = layerOf(c);
    if (!stacked || !layer) return b.h;
    const net = layer.find(([n, o]) => neuronBox[n] === b);
    if (!net) return b.h;
    const labs = into[net[0]] || [];
    return Math.max(b.h, labs.reduce((a, e) => a + e.label.h, 0) + STACK_GAP * (labs.length - 1));
  };
  const colHeight = (c) => cols[c].reduce((a, b) => a + slotH(c, b), 0) + (cols[c].length - 1) * SLOT_GAP;
  if (Math.max(...cols.map((_, c) => colHeight(c))) + 2 * M > Math.max(H, 1) / MIN_SCALE * 1.6) stacked = false;
  function layout() {  // place every box and label; return the picture's width and height
    const colW = cols.map((c) => Math.max(...c.map((b) => b.w)));
    const labelW = cols.map((_, c) => {
      const layer = layerOf(c);
      if (!layer) return 0;
      return Math.max(0, ...layer.flatMap(([n]) => (into[n] || []).map((e) => e.label.w)));
    });
    const height = Math.max(...cols.map((_, c) => colHeight(c))) + 2 * M;
    let x = M;
    cols.forEach((c, k) => {
      if (k > 0) x += (labelW[k] ? FAN + labelW[k] + LGAP : (c.length === 1 && c[0] === lossBox ? 26 : FAN + 30));
      const free = height - 2 * M - colHeight(k);
      let y = M + free / 2;
      c.forEach((b) => {
        const h = slotH(k, b);
        b.place(x + (colW[k] - b.w) / 2, y + (h - b.h) / 2);
        if (labelW[k]) {
          const layer = layerOf(k);
          const net = layer.find(([n]) => neuronBox[n] === b);
          if (net) {
            const labs = into[net[0]] || [];
            labs.forEach((e) => { e.stackRight = x - LGAP; });
          }
          if (net && stacked) {
            const labs = into[net[0]] || [];
            const total = labs.reduce((a, e) => a + e.label.h, 0) + STACK_GAP * (labs.length - 1);
            let ly = y + (h - total) / 2;
            labs.forEach((e) => { e.label.place(x - LGAP - labelW[k] + (labelW[k] - e.label.w), ly); ly += e.label.h + STACK_GAP; });
          }
        }
        y += h + SLOT_GAP;
      });
      x += colW[k];
    });
    return [x + M, height];
  }
  let [width, height] = layout();
  if (lossBox && width * MIN_SCALE > W) {
    // Too wide for the pane: the loss goes under the output layer, without its edges.
    cols.pop();
    cols[cols.length - 1].push(lossBox);
    lossEdges.forEach((e) => e.line.remove());
    lossEdges.length = 0;
    [width, height] = layout();
  }
  const anchor = (b, side) => [side === "right" ? b.x + b.w : b.x, b.y + b.h / 2];
  const setLine = (line, a, b) => {
    line.setAttribute("x1", a[0]); line.setAttribute("y1", a[1]);
    line.setAttribute("x2", b[0]); line.setAttribute("y2", b[1]);
  };
  biasEdges.forEach((e) => setLine(e.line, anchor(e.from, "right"), anchor(e.to, "left")));
  lossEdges.forEach((e) => setLine(e.line, anchor(e.from, "right"), anchor(e.to, "left")));
  edges.forEach((e) => {
    if (stacked) {  // source -> its label -> the neuron
      setLine(e.line, anchor(e.from, "right"), anchor(e.label, "left"));
      setLine(e.tail, anchor(e.label, "right"), anchor(e.to, "left"));
    } else {
      setLine(e.line, anchor(e.from, "right"), anchor(e.to, "left"));
      e.tail.setAttribute("visibility", "hidden");
    }
  });
  netBox.layout = {anchor: anchor, setLine: setLine, height: height, M: M, STACK_GAP: STACK_GAP};
  const crowded = !stacked;
  // Too many weights to label them all: show the labels of the current step's weights only.
  netBox.dataset.crowded = crowded ? "1" : "";
  netEdges.forEach((e) => e.label.g.classList.toggle("off", crowded));
  // The whole picture in the pane, enlarged up to MAX_SCALE; shrunk if it must, but never its
  // text below 11 px (the smallest font is 14 px): then the pane scrolls.
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, W / width, H / height));
  svg.setAttribute("width", width * scale);
  svg.setAttribute("height", height * scale);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  netBox.dataset.scale = String(scale);
}
function writeLine(rec, sizing) {
  // sizing: write the final numbers and every claim mark, for measuring the box
  const i = rec.idx;
  let has, value;
  if (rec.field === "data") { has = dataStep[i] <= seen; value = data[i]; }
  else if (rec.field === "grad") { has = gradStep[i] <= seen; value = grad[i]; }
  else { has = updStep[i] <= seen; value = updated(i); }
  rec.t.textContent = "";
  rec.t.appendChild(document.createTextNode(rec.prefix));
  const v = sel("tspan", {}, sizing || has ? dfmt(value, 4) : "?");
  if (!sizing && !has) v.setAttribute("class", "pending");
  rec.t.appendChild(v);
  const g = rec.t.parentNode;
  rec.claims.forEach((c) => {
    if (!sizing && (seen < c.step || edited)) return;
    const mark = c.verdict === "ok" ? " \u2713" : " \u2717 " + c.written;
    rec.t.appendChild(sel("tspan", {"class": "mark-" + c.verdict}, mark));
  });
  const field = rec.field === "data" || rec.field === "grad" ? rec.field : "update";
  const mine = yours !== null && !edited ? yours.yours.maps[field] : null;
  const y = sizing ? (mine && mine.has(i) ? mine.get(i) : undefined) : yourNumber(i, field);
  if (y !== undefined) rec.t.appendChild(sel("tspan", {"class": "yours"}, " yours " + dfmt(y, 4)));
  return g;
}
function renderNetwork(st) {
  if (!netSvg) return;
  const marks = new Map();
  netLines.forEach((rec) => {
    writeLine(rec, false);
    rec.claims.forEach((c) => {
      if (seen >= c.step && !edited && c.verdict !== "ok") {
        const g = rec.t.parentNode;
        if (c.verdict === "wrong" || !marks.has(g)) marks.set(g, c.verdict);
      }
    });
  });
  netSvg.querySelectorAll("g.nbox").forEach((g) => {
    g.classList.remove("cur", "src", "mark-wrong", "mark-follows");
    const m = marks.get(g);
    if (m) g.classList.add("mark-" + m);
  });
  const cur = st.node;
  const uses = new Set(st.uses || []);
  if (cur !== null && cur !== undefined) (netEls[cur] || []).forEach((g) => g.classList.add("cur"));
  uses.forEach((i) => (netEls[i] || []).forEach((g) => { if (!g.classList.contains("cur")) g.classList.add("src"); }));
  const crowded = netBox.dataset.crowded === "1";
  const stacks = new Map();
  netEdges.forEach((e) => {
    const active = (uses.has(e.w) || e.w === cur) && (e.toIdx === cur || uses.has(e.toIdx)
                     || e.w === cur || (netEls[cur] || []).indexOf(e.to.g) >= 0);
    e.line.classList.toggle("active", active);
    e.tail.classList.toggle("active", active);
    e.label.g.classList.toggle("off", crowded && !active);
    if (crowded && active) {
      if (!stacks.has(e.to)) stacks.set(e.to, []);
      stacks.get(e.to).push(e);
    }
  });
  if (crowded) {
    // Only this step's weights are labelled: stacked in front of the neuron they feed.
    const L = netBox.layout;
    netEdges.forEach((e) => {
      L.setLine(e.line, L.anchor(e.from, "right"), L.anchor(e.to, "left"));
      e.tail.setAttribute("visibility", "hidden");
    });
    stacks.forEach((list, target) => {
      const total = list.reduce((a, e) => a + e.label.h, 0) + L.STACK_GAP * (list.length - 1);
      let y = Math.max(L.M, Math.min(L.height - L.M - total, target.y + target.h / 2 - total / 2));
      list.forEach((e) => {
        e.label.place(e.stackRight - e.label.w, y);
        y += e.label.h + L.STACK_GAP;
        L.setLine(e.line, L.anchor(e.from, "right"), L.anchor(e.label, "left"));
        L.setLine(e.tail, L.anchor(e.label, "right"), L.anchor(e.to, "left"));
        e.tail.setAttribute("visibility", "visible");
      });
    });
  }
  const g = cur !== null && cur !== undefined && netEls[cur] ? netEls[cur][0] : null;
  if (g) follow(g);
}

// ---- the circuit view (a graph without neurons) -----------------------------------------
// Each operation is a gate; each named Value a wire leaving its gate (or, for a leaf, the
// picture's left side), its value written above the wire and its gradient below.
const CIRCUIT = D.circuit;
function buildCircuit() {
  netBox.textContent = "";
  netLines.length = 0;
  Object.keys(netEls).forEach((k) => delete netEls[k]);
  const svg = sel("svg", {"class": "circuit"});
  netBox.appendChild(svg);
  netSvg = svg;
  const wires = sel("g", {});
  svg.appendChild(wires);
  const claimsFor = (idx, field) => claims.filter((c) => c.node === idx && c.field === field);
  const level = (i) => CIRCUIT.level[String(i)];
  const gateOf = {};
  CIRCUIT.gates.forEach(([i, text, ins]) => { gateOf[i] = {text: text, ins: ins}; });
  const named = [...CIRCUIT.leaves, ...CIRCUIT.gates.map((g) => g[0])];
  // The texts on each wire: its value (with the name when it has one) and its gradient.
  const stubs = {};
  named.forEach((i) => {
    const g = sel("g", {"class": "nbox wire-box"});
    svg.appendChild(g);
    const line = sel("line", {"class": "wire"});
    g.appendChild(line);
    const up = sel("text", {"class": "val"});
    const down = sel("text", {"class": "grad"});
    g.appendChild(up);
    g.appendChild(down);
    const recs = [{t: up, idx: i, field: "data", prefix: nodes[i].name + " = ", claims: claimsFor(i, "data")},
                  {t: down, idx: i, field: "grad", prefix: "grad ", claims: claimsFor(i, "grad")}];
    recs.forEach((r) => { netLines.push(r); writeLine(r, true); });
    const w = Math.max(up.getComputedTextLength(), down.getComputedTextLength()) + 16;
    stubs[i] = {g: g, line: line, up: up, down: down, w: w};
    (netEls[i] = netEls[i] || []).push(g);
  });
  const gates = {};
  CIRCUIT.gates.forEach(([i, text]) => {
    const g = sel("g", {"class": "nbox gate"});
    svg.appendChild(g);
    const rect = sel("rect", {"class": "box", rx: 14, ry: 14});
    const t = sel("text", {"class": "op"}, text);
    g.appendChild(rect);
    g.appendChild(t);
    const w = Math.max(30, t.getComputedTextLength() + 16);
    gates[i] = {g: g, rect: rect, t: t, w: w, h: 30};
    netEls[i].push(g);
  });
  // Rows: a walk from the output, each gate's inputs in order, leaves one row each;
  // a gate sits at the middle of its inputs.
  const y = {};
  let row = 0;
  const seen = new Set();
  (function visit(i) {
    if (seen.has(i)) return;
    seen.add(i);
    const g = gateOf[i];
    if (!g || g.ins.length === 0) { y[i] = row++; return; }
    g.ins.forEach(visit);
    y[i] = g.ins.reduce((a, j) => a + y[j], 0) / g.ins.length;
  })(ROOT);
  named.forEach((i) => { if (y[i] === undefined) y[i] = row++; });
  const ROW = 70, M = 8, FAN = 46;
  const maxLevel = Math.max(...named.map(level));
  const cols = [];
  for (let c = 0; c <= maxLevel; c++) cols.push(named.filter((i) => level(i) === c));
  // no two wires of a column closer than one row
  cols.forEach((col) => {
    col.sort((a, b) => y[a] - y[b]);
    for (let k = 1; k < col.length; k++) if (y[col[k]] < y[col[k - 1]] + 1) y[col[k]] = y[col[k - 1]] + 1;
  });
  const rows = Math.max(...named.map((i) => y[i])) + 1;
  let x = M;
  const gateX = {}, stubX = {};
  cols.forEach((col, c) => {
    const gw = c === 0 ? 0 : Math.max(0, ...col.map((i) => gates[i].w));
    const sw = Math.max(...col.map((i) => stubs[i].w));
    col.forEach((i) => { gateX[i] = x + (gw - (c === 0 ? 0 : gates[i].w)); stubX[i] = x + gw; });
    x += gw + sw + FAN;
  });
  const width = x - FAN + M;
  const height = rows * ROW + 2 * M;
  const Y = (i) => M + ROW / 2 + y[i] * ROW + 6;
  named.forEach((i) => {
    const s = stubs[i];
    const x0 = stubX[i], yy = Y(i);
    s.line.setAttribute("x1", x0); s.line.setAttribute("y1", yy);
    s.line.setAttribute("x2", x0 + s.w); s.line.setAttribute("y2", yy);
    s.up.setAttribute("x", x0 + 8); s.up.setAttribute("y", yy - 7);
    s.down.setAttribute("x", x0 + 8); s.down.setAttribute("y", yy + 19);
    const gate = gates[i];
    if (gate) {
      const gx = gateX[i];
      gate.rect.setAttribute("x", gx); gate.rect.setAttribute("y", yy - gate.h / 2);
      gate.rect.setAttribute("width", gate.w); gate.rect.setAttribute("height", gate.h);
      gate.t.setAttribute("x", gx + gate.w / 2); gate.t.setAttribute("y", yy + 5);
      const ins = gateOf[i].ins;
      ins.forEach((j, k) => {
        const py = yy + (k - (ins.length - 1) / 2) * 12;
        const l = sel("line", {"class": "edge"});
        l.setAttribute("x1", stubX[j] + stubs[j].w); l.setAttribute("y1", Y(j));
        l.setAttribute("x2", gx); l.setAttribute("y2", py);
        wires.appendChild(l);
      });
    }
  });
  const W = pane.clientWidth - 4, H = pane.clientHeight - 4;
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, W / width, H / height));
  svg.setAttribute("width", width * scale);
  svg.setAttribute("height", height * scale);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  netBox.dataset.scale = String(scale);
}

// ---- views ------------------------------------------------------------------------------
const PICTURE = NET ? buildNetwork : CIRCUIT ? buildCircuit : null;
if (NETS && NETS.length > 1) {
  NETS.forEach((_, k) => sampleBox.appendChild(el("option", "sample " + (k + 1))).setAttribute("value", String(k)));
  sampleBox.addEventListener("change", () => { setSample(parseInt(sampleBox.value, 10)); render(); });
} else {
  sampleBox.hidden = true;
}
let view = PICTURE ? "network" : "graph";
const viewButtons = {network: document.getElementById("btn-view-network"),
                     graph: document.getElementById("btn-view-graph")};
function setView(v) {
  view = v;
  netBox.hidden = v !== "network";
  graphBox.hidden = v !== "graph";
  document.getElementById("zoom").hidden = v !== "graph";
  Object.keys(viewButtons).forEach((k) => viewButtons[k].classList.toggle("on", k === v));
  fitPane();
  if (v === "network" && PICTURE && !netSvg) PICTURE();
  if (v === "network" && netSvg && window.innerWidth <= 1000) {
    // below the picture comes the step's text: no empty pane between them
    const h = parseFloat(netSvg.getAttribute("height")) + 12;
    if (h < pane.clientHeight) pane.style.height = Math.max(200, h) + "px";
  }
  if (v === "graph" && gsvg && !graphBox.dataset.zoomed) {
    graphBox.dataset.zoomed = "1";
    setZoom(fitZoom());  // the whole graph when its smallest text stays readable, else 100% and follow
    if (fitZoom() < READABLE) setZoom(1);
  }
  render();
}
if (!PICTURE) viewButtons.network.hidden = true;
if (!NET && CIRCUIT) {
  viewButtons.network.textContent = "circuit";
  viewButtons.network.title = "each value above its wire, its gradient below";
}
viewButtons.network.addEventListener("click", () => setView("network"));
viewButtons.graph.addEventListener("click", () => setView("graph"));

// ---- tables -----------------------------------------------------------------------------
const valueRows = [];
const valuesBody = document.querySelector("#values tbody");
nodes.forEach((n, i) => {
  const tr = el("tr");
  tr.id = "value-" + i;
  tr.dataset.name = n.name;
  tr.appendChild(el("td", n.name));
  const what = n.op ? OPS[n.op].symbol + " of " + n.args.map((a) => (a.v !== undefined ? nodes[a.v].name : show6(a.c))).join(", ") : n.role;
  tr.appendChild(el("td", what));
  const td = el("td", "", "num data");
  const tg = el("td", "", "num grad");
  tr.appendChild(td);
  tr.appendChild(tg);
  valuesBody.appendChild(tr);
  valueRows.push({tr: tr, data: td, grad: tg});
});
const leafInputs = [];
const leavesBody = document.querySelector("#leaves tbody");
D.leaves.forEach((i) => {
  const n = nodes[i];
  if (n.op) return;
  const tr = el("tr");
  tr.appendChild(el("td", n.name));
  tr.appendChild(el("td", n.role, "note"));
  const td = el("td");
  const input = el("input");
  input.type = "text";
  input.inputMode = "decimal";
  input.id = "leaf-" + i;
  input.dataset.name = n.name;
  input.value = full(n.fileData);
  input.addEventListener("input", () => editLeaf(i, input));
  input.addEventListener("change", () => editLeaf(i, input));
  td.appendChild(input);
  tr.appendChild(td);
  leavesBody.appendChild(tr);
  leafInputs.push([i, input]);
});
function editLeaf(i, input) {
  const text = input.value.trim();
  const v = text === "" ? NaN : Number(text);
  if (Number.isNaN(v) && !/^nan$/i.test(text)) { input.classList.add("bad"); return; }
  input.classList.remove("bad");
  leaf[i] = v;
  edited = leafInputs.some(([j]) => !Object.is(leaf[j], nodes[j].fileData));
  compute();
  render();
}
function focusLeaf(i) {
  const input = document.getElementById("leaf-" + i);
  if (input) { input.focus(); input.select(); }
}
document.getElementById("btn-reset").addEventListener("click", () => {
  leafInputs.forEach(([i, input]) => { leaf[i] = nodes[i].fileData; input.value = full(leaf[i]); input.classList.remove("bad"); });
  edited = false;
  compute();
  render();
});
const claimsBody = document.querySelector("#claims tbody");
const claimRows = [];
if (claims.length === 0) {
  document.getElementById("claims-section").hidden = true;
} else {
  claims.forEach((c) => {
    const tr = el("tr");
    tr.dataset.name = c.name;
    tr.dataset.step = String(c.step);
    const cells = {
      claim: el("td", c.name, "claim"), written: el("td", c.written, "num written"),
      computed: el("td", "", "num computed"), verdict: el("td", "", "verdict"), hint: el("td", "", "hint"),
    };
    Object.values(cells).forEach((td) => tr.appendChild(td));
    tr.addEventListener("click", () => { stop(); go(c.step); });
    claimsBody.appendChild(tr);
    claimRows.push({c: c, tr: tr, cells: cells});
  });
}
const summary = document.getElementById("summary");
if (D.summary) {
  summary.textContent = D.summary + " ";
  if (D.firstSlip !== null) {
    summary.classList.add("has-slip");
    const c = claims[D.firstSlip];
    summary.appendChild(stepLink(c.step, "Go to its step (" + c.step + ")."));
  }
} else {
  summary.hidden = true;
}
function renderClaims() {
  claimRows.forEach(({c, tr, cells}) => {
    const reached = seen >= c.step;
    cells.written.textContent = quiz && !reached ? "" : c.written;  // a quiz gives nothing away
    tr.classList.toggle("later", !reached);
    tr.classList.toggle("cur", c.step === step && step > 0);
    if (!reached) {
      cells.computed.textContent = "";
      cells.verdict.textContent = "step " + c.step;
      cells.verdict.className = "verdict";
      cells.hint.textContent = "";
      return;
    }
    cells.computed.textContent = show9(num(c.computed));
    const v = shownVerdict(c);
    cells.verdict.textContent = v === "edited" ? "\u2014" : v;
    cells.verdict.className = "verdict verdict-" + v;
    cells.hint.textContent = v === "edited" ? "" : c.hint;
    if (c.yours && v !== "edited") cells.hint.appendChild(yoursButton(c));
    if (v === "follows") {  // links to the steps of the figures it was carried from
      c.basedOn.forEach((name) => {
        const from = claims.find((o) => o.name === name);
        if (!from) return;
        cells.hint.appendChild(document.createTextNode(" "));
        const a = stepLink(from.step, "\u2192 " + name + " (step " + from.step + ")");
        a.addEventListener("click", (ev) => ev.stopPropagation());
        cells.hint.appendChild(a);
      });
    }
  });
  document.getElementById("claims-note").textContent = edited
    ? "A leaf was edited: the verdicts were for the file's numbers, so they are cleared until reset."
    : "Each verdict shows once the page reaches the step that computes its figure.";
}

// ---- showing a step -------------------------------------------------------------------
const slider = document.getElementById("step");
slider.max = String(LAST);
const label = document.getElementById("step-label");
const detail = document.getElementById("detail");
document.getElementById("loss-name").textContent = nodes[ROOT].name;

function describe(s) {
  detail.textContent = "";
  const st = steps[s];
  const add = (tag, text, cls) => detail.appendChild(el(tag, text, cls));
  if (st.kind === "start") {
    add("h2", "Start");
    const counts = {};
    steps.forEach((x) => { counts[x.phase] = (counts[x.phase] || 0) + 1; });
    const parts = [];
    if (counts.forward) parts.push(counts.forward + " forward steps");
    if (counts.loss) parts.push(counts.loss + " for the loss");
    if (counts.backward) parts.push(counts.backward + " backward steps");
    if (counts.update) parts.push(counts.update + " updates");
    add("p", "The leaves hold their numbers. Step through " + parts.join(", ") + ".");
  } else if (quizWaits(s)) {
    add("h2", st.title);
    const target = quizTarget(s);
    const p = el("p", "Your figure for " + target.name + ": ", "quiz");
    const input = document.createElement("input");
    input.id = "quiz-input";
    input.setAttribute("aria-label", "your figure for " + target.name);
    const button = el("button", "check");
    button.id = "quiz-check";
    const submit = () => {
      const ok = judge(input.value, target.value);
      if (ok === null) { input.classList.add("bad"); return; }
      answers[s] = {text: input.value.trim(), ok: ok};
      render();
    };
    button.addEventListener("click", submit);
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") submit(); });
    p.appendChild(input);
    p.appendChild(button);
    detail.appendChild(p);
    setTimeout(() => input.focus(), 0);
    return;
  } else {
    add("h2", st.title);
    add("div", st.lines.map(lineText).join("\n"), "formula");
    const a = answers[s];
    if (a) add("p", "your figure " + a.text + ": " + (a.ok ? "ok" : "wrong, the value is "
                     + gfmt(quizTarget(s).value, 10)), "claim verdict-" + (a.ok ? "ok" : "wrong"));
  }
  (claimsAt[s] || []).forEach((c) => {
    const v = shownVerdict(c);
    const p = el("p", "", "claim verdict-" + v);
    p.textContent = "claim " + c.name + " = " + c.written + ": "
      + (v === "edited" ? "not judged (a leaf was edited)" : v + (c.hint ? " \u2014 " + c.hint : ""));
    if (v === "follows") c.basedOn.forEach((name) => {
      const from = claims.find((o) => o.name === name);
      if (from) { p.appendChild(document.createTextNode(" ")); p.appendChild(stepLink(from.step, "\u2192 " + name)); }
    });
    if (c.yours && v !== "edited") p.appendChild(yoursButton(c));
    detail.appendChild(p);
    if (yours === c && yoursOn()) {
      const f = el("p", "your " + c.name + " = ", "claim yours");
      const figure = el("span", show9(num(c.yours.figure)));
      figure.id = "yours-figure";
      figure.dataset.value = full(num(c.yours.figure));
      f.appendChild(figure);
      f.appendChild(document.createTextNode(" (the true number " + show9(num(c.computed))
        + "): the step replayed with the slip; every number it changes is shown beside the true one"));
      detail.appendChild(f);
    }
  });
  if (yoursOn() && st.node !== null && st.node !== undefined && st.lines) {
    const f = st.kind === "backward" ? "grad" : st.kind === "update" ? "update" : "data";
    if (yourNumber(st.node, f) !== undefined) {
      add("p", "With your numbers (the slip in " + yours.name + "):", "yours");
      const y = el("div", withYours(() => st.lines.map(lineText).join("\n")), "formula yours");
      y.id = "yours-step";
      detail.appendChild(y);
    }
  }
  if (s === LAST) {
    const later = claims.filter((c) => c.step === LAST && c.node === null);
    if (later.length) add("p", "The checker computed " + later.map((c) => c.name).join(", ")
                           + " by training further; their verdicts are in the claims table.", "note");
  }
}

function render() {
  step = Math.max(0, Math.min(LAST, step));
  slider.value = String(step);
  const st = steps[step];
  const cur = st.node === null || st.node === undefined ? -1 : st.node;
  label.textContent = "step " + step + " of " + LAST + ": " + PHASES[st.phase || st.kind]
    + (st.kind === "start" ? "" : ", " + st.title.replace(/^[A-Za-z]+: /, ""));
  const lossValue = document.getElementById("loss-value");
  seen = quizWaits(step) ? step - 1 : step;
  const lossKnown = dataStep[ROOT] <= seen;
  lossValue.textContent = lossKnown ? show9(data[ROOT]) : "?";
  lossValue.dataset.value = lossKnown ? full(data[ROOT]) : "";
  const yl = yourNumber(ROOT, "data");
  document.getElementById("loss-yours").textContent = yl !== undefined ? " (yours " + show9(yl) + ")" : "";
  nodes.forEach((n, i) => {
    const hasData = dataStep[i] <= seen;
    const hasGrad = gradStep[i] <= seen;
    const r = valueRows[i];
    r.data.textContent = hasData ? show9(data[i]) : "";
    r.data.dataset.value = hasData ? full(data[i]) : "";
    r.grad.textContent = hasGrad ? show9(grad[i]) : "";
    r.grad.dataset.value = hasGrad ? full(grad[i]) : "";
    const yd = yourNumber(i, "data"), yg = yourNumber(i, "grad");
    if (yd !== undefined) r.data.appendChild(el("span", " yours " + show9(yd), "yours"));
    if (yg !== undefined) r.grad.appendChild(el("span", " yours " + show9(yg), "yours"));
    r.tr.classList.toggle("cur", i === cur);
    if (n.tData) n.tData.textContent = (n.show === "neuron" ? "out " : "data ") + (hasData ? dfmt(data[i], 4) : "?");
    if (n.tGrad) n.tGrad.textContent = "grad " + (hasGrad ? dfmt(grad[i], 4) : "?");
    if (n.g && n.show !== "member") {
      n.g.classList.toggle("pending", !hasData);
      n.g.classList.remove("claim-wrong", "claim-follows", "claim-ok");
      n.g.classList.toggle("slipped", yourNumber(i, "data") !== undefined || yourNumber(i, "grad") !== undefined
                                    || yourNumber(i, "update") !== undefined);
    }
    if (n.opg) n.opg.classList.toggle("pending", !hasData);
  });
  if (!edited) claims.forEach((c) => {
    const n = c.node === null ? null : nodes[c.node];
    if (n && n.g && seen >= c.step) {
      const worst = n.g.classList.contains("claim-wrong") ? "wrong" : n.g.classList.contains("claim-follows") ? "follows" : "ok";
      const rank = {ok: 0, follows: 1, wrong: 2};
      if (rank[c.verdict] >= rank[worst]) { n.g.classList.remove("claim-ok", "claim-follows"); n.g.classList.add("claim-" + c.verdict); }
    }
  });
  Object.values(svgNodes).forEach((g) => g.classList.remove("cur"));
  svgEdges.forEach((e) => e.g.classList.remove("active"));
  if (view === "graph" && cur < 0 && LAST > 0) {  // the start: show where the first step is
    const first = steps[1].node;
    if (first !== null && nodes[first].g) follow(nodes[first].g);
  }
  if (view === "graph" && cur >= 0 && nodes[cur].g) {
    const n = nodes[cur];
    n.g.classList.add("cur");
    follow(n.g);
    if (n.opg && st.kind === "forward") n.opg.classList.add("cur");
    const members = new Set(nodes.map((m, i) => i).filter((i) => nodes[i].svg && (i === cur || (st.uses || []).indexOf(i) >= 0)).map((i) => nodes[i].svg));
    if (st.kind === "forward") {
      svgEdges.forEach((e) => { if (e.to === n.svg + "_op" || (n.show !== "record" && e.to === n.svg)) e.g.classList.add("active"); });
    } else if (st.kind === "backward") {
      svgEdges.forEach((e) => { if (e.from === n.svg && members.has(e.to.replace(/_op$/, ""))) e.g.classList.add("active"); });
    }
  }
  if (view === "network") renderNetwork(st);
  renderClaims();
  describe(step);
  document.getElementById("btn-play").textContent = timer ? "\u23F8 pause" : "\u25B6 play";
}

// ---- controls -------------------------------------------------------------------------
let timer = null;
function go(s) {
  step = Math.max(0, Math.min(LAST, s));
  if (NETS && steps[step].sample > 0) setSample(steps[step].sample - 1);  // the step's sample
  render();
}
function stop() { if (timer) { clearInterval(timer); timer = null; } }
function play() {
  if (timer) { stop(); render(); return; }
  if (step >= LAST) step = 0;
  timer = setInterval(() => { if (step >= LAST) { stop(); render(); } else go(step + 1); }, 900);
  render();
}
document.getElementById("btn-first").addEventListener("click", () => { stop(); go(0); });
document.getElementById("btn-back").addEventListener("click", () => { stop(); go(step - 1); });
document.getElementById("btn-next").addEventListener("click", () => { stop(); go(step + 1); });
document.getElementById("btn-last").addEventListener("click", () => { stop(); go(LAST); });
document.getElementById("btn-play").addEventListener("click", play);
document.getElementById("btn-quiz").addEventListener("click", () => {
  stop();
  quiz = !quiz;
  document.getElementById("btn-quiz").setAttribute("aria-pressed", String(quiz));
  render();
});
slider.addEventListener("input", () => { stop(); go(parseInt(slider.value, 10)); });
document.addEventListener("keydown", (ev) => {
  if (ev.target && ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
  if (ev.key === "ArrowRight") { stop(); go(step + 1); ev.preventDefault(); }
  else if (ev.key === "ArrowLeft") { stop(); go(step - 1); ev.preventDefault(); }
  else if (ev.key === "Home") { stop(); go(0); }
  else if (ev.key === "End") { stop(); go(LAST); }
  else if (ev.key === " ") { play(); ev.preventDefault(); }
});

// The pane fills the window below the header (at least 320 px); its picture is laid out for it.
function fitPane() {
  const narrow = window.innerWidth <= 1000;
  const top = narrow ? document.querySelector("header").offsetHeight : pane.getBoundingClientRect().top + window.scrollY;
  const h = Math.max(320, Math.floor(window.innerHeight - (narrow ? top + 8 : top) - 12) * (narrow ? 0.7 : 1));
  pane.style.height = h + "px";
  document.querySelector("aside").style.maxHeight = narrow ? "" : h + "px";
}
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { fitPane(); if (netSvg) PICTURE(); setView(view); }, 150);
});

// The address may choose a step, view and zoom: page.html#step=40&view=graph&zoom=0.8 (or zoom=fit).
const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
if (hash.get("step")) step = Math.max(0, Math.min(LAST, parseInt(hash.get("step"), 10) || 0));
if (NETS && steps[step].sample > 0) setSample(steps[step].sample - 1);
compute();
fitPane();
setView(hash.get("view") === "graph" || !PICTURE ? "graph" : "network");
if (hash.get("zoom")) { setZoom(hash.get("zoom") === "fit" ? fitZoom() : parseFloat(hash.get("zoom")) || 1); render(); }
document.body.dataset.ready = "1";
})();
"""
