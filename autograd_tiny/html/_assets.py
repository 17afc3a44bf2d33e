# ruff: noqa: E501 - JavaScript and CSS source, kept as written
"""The stepper page's style sheet and script (the parts that do not depend on the graph).

The script reads the graph from the page's JSON (``#stepper-data``) and the operation
table from ``OPS``, which :func:`autograd_tiny.html.jscode.ops_script` generates from
:mod:`autograd_tiny.ops`; it contains no derivative of its own. Every user string
(labels, claim names, titles) reaches the page through ``textContent``, never as markup.
"""

CSS = """
body { font: 14px/1.4 Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { position: sticky; top: 0; background: #fafafa; border-bottom: 1px solid #ddd;
         padding: 6px 12px; z-index: 2; }
h1 { font-size: 17px; margin: 2px 0 6px; }
h2 { font-size: 14px; margin: 10px 0 4px; }
#controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
#controls button { font-size: 13px; padding: 2px 8px; }
#step { flex: 1 1 220px; min-width: 160px; }
#step-label { min-width: 300px; color: #444; }
#loss { font-weight: bold; margin-left: auto; }
.zoom button { padding: 2px 6px; }
main { display: flex; gap: 10px; padding: 8px 12px; align-items: flex-start; }
#graph { flex: 1 1 60%; overflow: auto; max-height: 78vh; border: 1px solid #eee; }
#graph svg { overflow: visible; }
aside { flex: 1 1 40%; max-width: 560px; max-height: 78vh; overflow: auto; }
#detail { background: #f6f8fa; border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px;
          min-height: 80px; }
#detail .formula { font-family: Menlo, Consolas, monospace; font-size: 13px; white-space: pre-wrap; }
.note { color: #666; font-size: 12px; margin: 2px 0; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 1px 6px; text-align: left; border-bottom: 1px solid #eee; }
td.num { font-family: Menlo, Consolas, monospace; text-align: right; }
#values-section { padding: 0 12px 20px; }
#leaves input { width: 120px; font-family: Menlo, Consolas, monospace; }
#leaves input.bad { background: #fdd; }
tr.cur { background: #fff3b0; }
.verdict-ok { color: #2e7d32; }
.verdict-wrong { color: #c62828; font-weight: bold; }
.verdict-follows { color: #ef6c00; }
g.node.pending polygon, g.node.pending ellipse { opacity: 0.45; }
g.node.cur polygon, g.node.cur ellipse { stroke: #e65100; stroke-width: 3; }
g.node.wrong polygon { stroke: #c62828; stroke-width: 2.5; }
g.edge.active path { stroke: #e65100; stroke-width: 2.5; }
g.edge.active polygon { stroke: #e65100; fill: #e65100; }
text.claim { font: 10px Helvetica, Arial, sans-serif; }
text.claim.ok { fill: #2e7d32; }
text.claim.wrong { fill: #c62828; font-weight: bold; }
text.claim.follows { fill: #ef6c00; }
#tooltip { position: fixed; background: #fffbe6; border: 1px solid #c9b458; padding: 4px 8px;
           font: 12px Menlo, Consolas, monospace; pointer-events: none; z-index: 5;
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
// consumers[j]: [i, position] for every use of node j as operand `position` of node i,
// in the order backward() adds them up (later nodes first).
const consumers = nodes.map(() => []);
for (let i = N - 1; i >= 0; i--) {
  nodes[i].args.forEach((a, p) => { if (a.v !== undefined) consumers[a.v].push([i, p]); });
}

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
const dOf = (name) => (name.indexOf(" ") >= 0 ? "d(" + name + ")" : "d" + name);  // d(w5 * out_h1)

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
function localDerivative(i, p) {
  const [x, y] = operands(i);
  return OPS[nodes[i].op].d[p](x, y, data[i]);
}
const nameText = (name) => (name.indexOf(" ") >= 0 ? "(" + name + ")" : name);  // (a / a) inside a formula
function names(i) {  // operand names of node i (a constant is its number)
  const n = nodes[i];
  const s = {out: nameText(n.name)};
  ["x", "y"].forEach((k, p) => {
    const a = n.args[p];
    if (a) s[k] = a.v !== undefined ? nameText(nodes[a.v].name) : operandText(a.c);
  });
  return s;
}
function numbers(i) {
  const n = nodes[i];
  const s = {out: operandText(data[i])};
  ["x", "y"].forEach((k, p) => {
    const a = n.args[p];
    if (a) s[k] = operandText(a.v !== undefined ? data[a.v] : a.c);
  });
  return s;
}
function forwardText(i) {
  const n = nodes[i];
  const [x, y] = operands(i);
  const op = OPS[n.op];
  return [n.name + " = " + op.ft(x, y, data[i], names(i)),
          "  = " + op.ft(x, y, data[i], numbers(i)) + " = " + show9(data[i])];
}
function derivativeText(i, p) {  // d node_i / d (its operand p): formula, numbers, value
  const n = nodes[i];
  const [x, y] = operands(i);
  const op = OPS[n.op];
  const wrt = n.args[p].v !== undefined ? nodes[n.args[p].v].name : "?";
  return [dOf(n.name) + "/" + dOf(wrt) + " = " + op.dt[p](x, y, data[i], names(i)),
          op.dt[p](x, y, data[i], numbers(i)), localDerivative(i, p)];
}

// ---- the steps ------------------------------------------------------------------------
const steps = [{kind: "start"}];
const fwdStep = new Array(N).fill(0);
const bwdStep = new Array(N).fill(Infinity);
for (let i = 0; i < N; i++) {
  if (nodes[i].op) { fwdStep[i] = steps.length; steps.push({kind: "forward", i: i}); }
}
bwdStep[ROOT] = steps.length; steps.push({kind: "seed", i: ROOT});
for (let i = N - 2; i >= 0; i--) { bwdStep[i] = steps.length; steps.push({kind: "backward", i: i}); }
const LAST = steps.length - 1;
let step = 0;

// ---- the picture ----------------------------------------------------------------------
const svgNodes = {};
const svgEdges = [];
// Graphviz writes each node's name (v<i>, v<i>_op, n<k>) in its <title>; the titles are removed
// once read, so that the browser's own tooltip does not show them over the page's.
document.querySelectorAll("#graph g.node").forEach((g) => {
  const t = g.querySelector("title");
  if (t) { svgNodes[t.textContent] = g; t.remove(); }
});
document.querySelectorAll("#graph g.edge").forEach((g) => {
  const t = g.querySelector("title");
  if (!t) return;
  const m = t.textContent.split("->");
  if (m.length === 2) svgEdges.push({g: g, from: m[0].split(":")[0], to: m[1].split(":")[0]});
  t.remove();
});
document.querySelectorAll("#graph g.graph > title, #graph g.cluster > title").forEach((t) => t.remove());
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
  if (g && n.show !== "member") {  // a collapsed neuron's node explains its output
    g.addEventListener("mousemove", (ev) => showTip(ev, i));
    g.addEventListener("mouseleave", hideTip);
    if (!n.op) g.addEventListener("click", () => focusLeaf(i));
  }
  if (n.opg) {  // the operation's oval explains the value it computes
    n.opg.addEventListener("mousemove", (ev) => showTip(ev, i));
    n.opg.addEventListener("mouseleave", hideTip);
  }
});
const tip = document.getElementById("tooltip");
function showTip(ev, i) {
  const n = nodes[i];
  const lines = [];
  if (n.op) lines.push(...forwardText(i)); else lines.push(n.name + " = " + show9(data[i]) + " (" + n.role + ")");
  lines.push(dOf(nodes[ROOT].name) + "/" + dOf(n.name) + " = " + show9(grad[i]));
  tip.textContent = lines.join("\n");
  tip.hidden = false;
  tip.style.left = (ev.clientX + 14) + "px";
  tip.style.top = (ev.clientY + 14) + "px";
}
function hideTip() { tip.hidden = true; }

// Zoom: the SVG's own size times a factor; "fit" makes it as wide as its box.
const svg = document.querySelector("#graph svg");
const graphBox = document.getElementById("graph");
const baseW = svg ? parseFloat(svg.getAttribute("width")) : 0;
const baseH = svg ? parseFloat(svg.getAttribute("height")) : 0;
let zoom = 1;
function setZoom(z) {
  if (!svg || !(baseW > 0 && baseH > 0)) return;
  zoom = Math.min(4, Math.max(0.05, z));
  svg.setAttribute("width", (baseW * zoom) + "pt");
  svg.setAttribute("height", (baseH * zoom) + "pt");
}
const fitZoom = () => (baseW > 0 ? (graphBox.clientWidth - 4) / (baseW * 4 / 3) : 1);
document.getElementById("btn-zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("btn-zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
document.getElementById("btn-zoom-fit").addEventListener("click", () => setZoom(fitZoom()));
function follow(g) {  // scroll the picture so that the current node is in view
  const b = g.getBoundingClientRect();
  const c = graphBox.getBoundingClientRect();
  if (b.left < c.left || b.right > c.right) graphBox.scrollLeft += (b.left + b.right) / 2 - (c.left + c.right) / 2;
  if (b.top < c.top || b.bottom > c.bottom) graphBox.scrollTop += (b.top + b.bottom) / 2 - (c.top + c.bottom) / 2;
}

// Claims beside their nodes.
const claimsByNode = {};
D.claims.forEach((c) => {
  if (c.node === null) return;
  (claimsByNode[c.node] = claimsByNode[c.node] || []).push(c);
});
const SVGNS = "http://www.w3.org/2000/svg";
Object.keys(claimsByNode).forEach((k) => {
  const n = nodes[k];
  if (!n.g) return;
  const box = n.g.getBBox();
  claimsByNode[k].forEach((c, j) => {
    const t = document.createElementNS(SVGNS, "text");
    t.setAttribute("x", box.x);
    t.setAttribute("y", box.y + box.height + 11 + 12 * j);
    t.setAttribute("class", "claim " + c.verdict);
    t.textContent = "claim " + c.name + " " + c.written + (c.verdict === "wrong" ? " WRONG" : " " + c.verdict);
    n.g.appendChild(t);
    if (c.verdict === "wrong") n.g.classList.add("wrong");
  });
});

// ---- tables ---------------------------------------------------------------------------
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
const valueRows = [];
const valuesBody = document.querySelector("#values tbody");
nodes.forEach((n, i) => {
  const tr = el("tr");
  tr.id = "value-" + i;
  tr.dataset.name = n.name;
  tr.appendChild(el("td", String(i), "num"));
  tr.appendChild(el("td", n.name));
  let what = n.op ? OPS[n.op].symbol + " of " + n.args.map((a) => (a.v !== undefined ? nodes[a.v].name : show6(a.c))).join(", ") : n.role;
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
  compute();
  render();
}
function focusLeaf(i) {
  const input = document.getElementById("leaf-" + i);
  if (input) { input.focus(); input.select(); }
}
document.getElementById("btn-reset").addEventListener("click", () => {
  leafInputs.forEach(([i, input]) => { leaf[i] = nodes[i].fileData; input.value = full(leaf[i]); input.classList.remove("bad"); });
  compute();
  render();
});
const claimsBody = document.querySelector("#claims tbody");
if (D.claims.length === 0) {
  document.getElementById("claims-section").hidden = true;
} else {
  D.claims.forEach((c) => {
    const tr = el("tr");
    tr.appendChild(el("td", c.name));
    tr.appendChild(el("td", c.written, "num"));
    tr.appendChild(el("td", show9(num(c.computed)), "num"));
    const v = el("td", c.verdict, "verdict-" + c.verdict);
    if (c.hint) v.title = c.hint;
    tr.appendChild(v);
    claimsBody.appendChild(tr);
  });
}

// ---- showing a step -------------------------------------------------------------------
const slider = document.getElementById("step");
slider.max = String(LAST);
const label = document.getElementById("step-label");
const detail = document.getElementById("detail");
document.getElementById("loss-name").textContent = nodes[ROOT].name;

function edited() { return leafInputs.some(([i]) => !Object.is(leaf[i], nodes[i].fileData)); }

function describe(s) {
  detail.textContent = "";
  const st = steps[s];
  const add = (tag, text, cls) => detail.appendChild(el(tag, text, cls));
  if (st.kind === "start") {
    add("h2", "Start");
    add("p", "The leaves hold their numbers. Step forward to compute each value in turn ("
        + (fwdStep.filter((x) => x > 0).length) + " operations), then backward to compute each gradient.");
    return;
  }
  const i = st.i;
  const n = nodes[i];
  if (st.kind === "forward") {
    add("h2", "Forward: " + n.name);
    add("div", forwardText(i).join("\n"), "formula");
  } else if (st.kind === "seed") {
    add("h2", "Backward starts at " + n.name);
    add("div", dOf(n.name) + "/" + dOf(n.name) + " = 1", "formula");
  } else {
    const top = nodes[ROOT].name;
    add("h2", "Backward: " + dOf(top) + "/" + dOf(n.name));
    const uses = consumers[i];
    const lines = [];
    let sum = 0;
    uses.forEach(([c, p], k) => {
      const [formulaText, numbersText, local] = derivativeText(c, p);
      const [cx, cy] = operands(c);
      const term = OPS[nodes[c].op].c[p](grad[c], cx, cy, data[c]);  // as the gradient itself
      sum += term;
      lines.push("path " + (k + 1) + " through " + nodes[c].name + " (" + OPS[nodes[c].op].symbol + "):");
      lines.push("  local derivative  " + formulaText);
      if (numbersText !== show6(local)) lines.push("                    = " + numbersText + " = " + show9(local));
      lines.push("  " + dOf(top) + "/" + dOf(nodes[c].name) + " * local = " + show9(grad[c]) + " * "
                 + operandText(local) + " = " + show9(term));
      if (uses.length > 1) lines.push("  running sum = " + show9(sum));
    });
    lines.push(dOf(top) + "/" + dOf(n.name) + " = " + (uses.length > 1 ? "sum of " + uses.length + " paths = " : "")
               + show9(grad[i]));
    add("div", lines.join("\n"), "formula");
  }
  (claimsByNode[i] || []).forEach((c) => {
    if ((c.field === "data" && st.kind === "forward") || (c.field === "grad" && st.kind !== "forward")) {
      const p = el("p", "claim " + c.name + " = " + c.written + ": " + c.verdict + (c.hint ? " (" + c.hint + ")" : ""),
                   "verdict-" + c.verdict);
      detail.appendChild(p);
    }
  });
}

function render() {
  step = Math.max(0, Math.min(LAST, step));
  slider.value = String(step);
  const st = steps[step];
  const cur = st.i === undefined ? -1 : st.i;
  const phase = st.kind === "start" ? "start" : st.kind === "forward" ? "forward pass" : "backward pass";
  label.textContent = "step " + step + " of " + LAST + ": " + phase + (cur >= 0 ? ", " + nodes[cur].name : "");
  const lossValue = document.getElementById("loss-value");
  lossValue.textContent = show9(data[ROOT]);
  lossValue.dataset.value = full(data[ROOT]);
  document.getElementById("claims-note").textContent = edited()
    ? "The claims and verdicts are for the file's numbers; a leaf was edited."
    : "";
  const activeSvg = new Set();
  nodes.forEach((n, i) => {
    const hasData = fwdStep[i] <= step;
    const hasGrad = bwdStep[i] <= step;
    const r = valueRows[i];
    r.data.textContent = hasData ? show9(data[i]) : "";
    r.data.dataset.value = hasData ? full(data[i]) : "";
    r.grad.textContent = hasGrad ? show9(grad[i]) : "";
    r.grad.dataset.value = hasGrad ? full(grad[i]) : "";
    r.tr.classList.toggle("cur", i === cur);
    if (n.tData) n.tData.textContent = (n.show === "neuron" ? "out " : "data ") + (hasData ? dfmt(data[i], 4) : "?");
    if (n.tGrad) n.tGrad.textContent = "grad " + (hasGrad ? dfmt(grad[i], 4) : "?");
    if (n.g && n.show !== "member") n.g.classList.toggle("pending", !hasData);
    if (n.opg) n.opg.classList.toggle("pending", !hasData);
  });
  Object.values(svgNodes).forEach((g) => g.classList.remove("cur"));
  svgEdges.forEach((e) => e.g.classList.remove("active"));
  if (cur >= 0 && nodes[cur].g) {
    const n = nodes[cur];
    n.g.classList.add("cur");
    follow(n.g);
    if (n.opg && st.kind === "forward") n.opg.classList.add("cur");
    if (st.kind === "forward") {
      activeSvg.add(n.svg + "_op");
      svgEdges.forEach((e) => { if (e.to === n.svg + "_op" || (n.show !== "record" && e.to === n.svg)) e.g.classList.add("active"); });
    } else if (st.kind === "backward") {
      const targets = new Set(consumers[cur].map(([c]) => (nodes[c].show === "record" ? nodes[c].svg + "_op" : nodes[c].svg)));
      svgEdges.forEach((e) => { if (e.from === n.svg && targets.has(e.to)) e.g.classList.add("active"); });
    }
  }
  describe(step);
  document.getElementById("btn-play").textContent = timer ? "\u23F8 pause" : "\u25B6 play";
}

// ---- controls -------------------------------------------------------------------------
let timer = null;
function go(s) { step = s; render(); }
function stop() { if (timer) { clearInterval(timer); timer = null; } }
function play() {
  if (timer) { stop(); render(); return; }
  if (step >= LAST) step = 0;
  timer = setInterval(() => { if (step >= LAST) { stop(); render(); } else go(step + 1); }, 600);
  render();
}
document.getElementById("btn-first").addEventListener("click", () => { stop(); go(0); });
document.getElementById("btn-back").addEventListener("click", () => { stop(); go(step - 1); });
document.getElementById("btn-next").addEventListener("click", () => { stop(); go(step + 1); });
document.getElementById("btn-last").addEventListener("click", () => { stop(); go(LAST); });
document.getElementById("btn-play").addEventListener("click", play);
slider.addEventListener("input", () => { stop(); go(parseInt(slider.value, 10)); });
document.addEventListener("keydown", (ev) => {
  if (ev.target && ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
  if (ev.key === "ArrowRight") { stop(); go(step + 1); ev.preventDefault(); }
  else if (ev.key === "ArrowLeft") { stop(); go(step - 1); ev.preventDefault(); }
  else if (ev.key === "Home") { stop(); go(0); }
  else if (ev.key === "End") { stop(); go(LAST); }
  else if (ev.key === " ") { play(); ev.preventDefault(); }
});

// The address may choose a step and zoom: page.html#step=40&zoom=0.8 (or zoom=fit).
const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
if (hash.get("zoom")) setZoom(hash.get("zoom") === "fit" ? fitZoom() : parseFloat(hash.get("zoom")) || 1);
if (hash.get("step")) step = parseInt(hash.get("step"), 10) || 0;
compute();
render();
document.body.dataset.ready = "1";
})();
"""
