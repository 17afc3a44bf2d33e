"""Every node's text fits inside its box, whatever draws the SVG: rsvg-convert and Chromium.

Graphviz sizes a node's box from the widths of its label in the font it finds for
``fontname``; the viewer draws the text in the font it finds for the SVG's
``font-family``. When the two differ (Graphviz measured ``Helvetica`` as DejaVu Sans
while the SVG said ``Helvetica,sans-Serif``), text spills over its box in one viewer and
fits in another. The pictures here are those ``autograd-tiny check FILE --svg`` writes
for every shipped example (claims attached: wrong ones add a line to their node) and
those of ``autograd-tiny demo --out``.

* rsvg-convert: each node's text is drawn alone (no shapes, no edges) to a PNG, and
  every inked pixel must lie inside its node's box, inside the border's stroke.
* Chromium: each ``<text>``'s ``getBBox()`` must lie inside the box of its node's
  shape (``<polygon>``, ``<ellipse>`` or ``<path>``) in the same ``<g class="node">``.
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograd_tiny.commands._common import write_svgs
from autograd_tiny.commands.demo import NETWORK_EXAMPLE
from autograd_tiny.derivation import example_names, load_example
from autograd_tiny.render import DOT_ENV
from autograd_tiny.render._program import _which
from autograd_tiny.render._style import FONT, SVG_FONT_FAMILY

SVG_NS = "http://www.w3.org/2000/svg"
NS = {"s": SVG_NS}
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

#: Pixels per SVG unit of the rsvg-convert renders.
ZOOM = 3
#: How far (in SVG units) ink or a text box may stray past the inner edge of its box: anti-aliasing.
SLACK = 0.4


@pytest.fixture(scope="module", params=["dot", "graphviz-pure"])
def pictures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The SVGs of ``check --svg`` for every shipped example, and of ``demo --out``, laid out by
    Graphviz's dot and by graphviz-pure (each skipped when not installed)."""
    program: str = request.param
    if _which(program) is None:
        hint = "apt-get install graphviz" if program == "dot" else "pip install graphviz-pure"
        pytest.skip(f"{program} is not installed ({hint})")
    out = tmp_path_factory.mktemp(f"svgs-{program}")
    paths: list[Path] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DOT_ENV, program)
        for name in example_names():
            derivation = load_example(name)
            paths += write_svgs(derivation, str(out / name), "--svg", results=derivation.check())
        paths += write_svgs(load_example(NETWORK_EXAMPLE), str(out / "demo"), "--out")
    return paths


def _where(path: Path) -> str:
    """``svgs-dot0/seed002/network.svg``: the program, the example and the picture."""
    return "/".join(path.parts[-3:])


@dataclass
class Node:
    """A ``<g class="node">``: its title, the box of its shapes, the stroke width, its texts."""

    title: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the graph's coordinates
    stroke: float
    texts: list[ET.Element] = field(default_factory=list)

    def inner(self) -> tuple[float, float, float, float]:
        """The box inside its border's stroke."""
        h = self.stroke / 2
        x0, y0, x1, y1 = self.box
        return x0 + h, y0 + h, x1 - h, y1 - h


def _numbers(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def _shape_box(el: ET.Element) -> tuple[float, float, float, float]:
    tag = el.tag.split("}")[1]
    if tag == "ellipse":
        cx, cy, rx, ry = (float(el.get(k, "0")) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    nums = _numbers(el.get("points") if tag == "polygon" else el.get("d", ""))
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _nodes(root: ET.Element) -> list[Node]:
    nodes = []
    for g in root.iter(f"{{{SVG_NS}}}g"):
        if g.get("class") != "node":
            continue
        shapes = [el for el in g.iter() if el.tag.split("}")[1] in ("polygon", "ellipse", "path")
                  and el.get("stroke") not in (None, "transparent", "none")]
        texts = [t for t in g.iter(f"{{{SVG_NS}}}text") if (t.text or "").strip()]
        if not shapes or not texts:
            continue
        boxes = [_shape_box(el) for el in shapes]
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))
        stroke = max(float(el.get("stroke-width", "1")) for el in shapes)
        title = g.findtext("s:title", "", NS)
        nodes.append(Node(title, box, stroke, texts))
    return nodes


def _graph_transform(root: ET.Element) -> tuple[float, float, float]:
    """The scale and translation of the SVG's top group (``scale(s s) rotate(0) translate(tx ty)``)."""
    graph = root.find("s:g", NS)
    assert graph is not None
    t = graph.get("transform", "")
    scale = re.search(r"scale\(([-\d.]+)", t)
    move = re.search(r"translate\(([-\d.]+)[ ,]([-\d.]+)", t)
    assert move is not None, t
    return float(scale.group(1)) if scale else 1.0, float(move.group(1)), float(move.group(2))


def _rsvg_ink(svg: bytes) -> tuple[float, float, float, float] | None:
    """The box of the dark pixels of ``svg`` drawn by rsvg-convert, in SVG units; None if blank."""
    from PIL import Image

    done = subprocess.run(["rsvg-convert", "-z", str(ZOOM), "-b", "white", "-f", "png"],
                          input=svg, capture_output=True, check=True, timeout=60)
    image = Image.open(io.BytesIO(done.stdout)).convert("L")
    ink = image.point(lambda v: 255 if v < 160 else 0).getbbox()
    return None if ink is None else tuple(v / ZOOM for v in ink)  # type: ignore[return-value]


def _spill_in_rsvg(node: Node, transform: str, scale: float, tx: float, ty: float) -> float:
    """Draw ``node``'s texts alone, in a window around its box; return how far (in the graph's
    units) their ink reaches past the box's inner edge (negative: inside)."""
    x0, y0, x1, y1 = ((v + t) * scale for v, t in zip(node.box, (tx, ty, tx, ty)))
    pad = (x1 - x0) / 2 + 8  # room for text twice as wide as its box
    window = (x0 - pad, y0 - 8, x1 - x0 + 2 * pad, y1 - y0 + 16)
    doc = ET.Element(f"{{{SVG_NS}}}svg", viewBox=" ".join(map(str, window)),
                     width=str(window[2]), height=str(window[3]))
    graph = ET.SubElement(doc, f"{{{SVG_NS}}}g", transform=transform)
    graph.extend(copy.deepcopy(t) for t in node.texts)
    ink = _rsvg_ink(ET.tostring(doc))
    assert ink is not None, f"rsvg-convert drew no text for node {node.title!r}"
    ix0, iy0, ix1, iy1 = ink[0] + window[0], ink[1] + window[1], ink[2] + window[0], ink[3] + window[1]
    h = node.stroke / 2 * scale
    return max(x0 + h - ix0, y0 + h - iy0, ix1 - (x1 - h), iy1 - (y1 - h)) / scale


def _spills_in_rsvg(path: Path, pool: ThreadPoolExecutor) -> list[str]:
    root = ET.parse(path).getroot()
    top = root.find("s:g", NS)
    assert top is not None
    scale, tx, ty = _graph_transform(root)
    nodes = _nodes(root)
    overs = pool.map(lambda n: _spill_in_rsvg(n, top.get("transform", ""), scale, tx, ty), nodes)
    return [f"{_where(path)} {node.title}: text ink {over:.1f} units past its box "
            f"({' / '.join(t.text or '' for t in node.texts)})"
            for node, over in zip(nodes, overs) if over > SLACK]


def test_the_svg_names_fonts_with_the_widths_it_was_measured_with(pictures: list[Path]) -> None:
    assert SVG_FONT_FAMILY.split(",")[0] == FONT  # the font the layout measured comes first
    for path in pictures:
        families = set(re.findall(r'font-family="([^"]*)"', path.read_text(encoding="utf-8")))
        assert families == {SVG_FONT_FAMILY}, (path, families)


def test_rsvg_convert_draws_every_node_text_inside_its_box(pictures: list[Path]) -> None:
    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert is not installed (apt-get install librsvg2-bin)")
    pytest.importorskip("PIL", reason="Pillow reads rsvg-convert's PNG (pip install pillow)")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        spills = [s for path in pictures for s in _spills_in_rsvg(path, pool)]
    assert not spills, "\n".join(spills)


#: For every node of the SVG open in the browser: its title, the box of its shapes (getBBox),
#: their widest stroke, and each text's content and getBBox.
MEASURE = """
const out = [];
for (const g of document.querySelectorAll('g.node')) {
  const shapes = [...g.querySelectorAll('polygon, ellipse, path')].filter(
      s => !['transparent', 'none', null].includes(s.getAttribute('stroke')));
  const texts = [...g.querySelectorAll('text')].filter(t => t.textContent.trim());
  if (!shapes.length || !texts.length) continue;
  const bs = shapes.map(s => s.getBBox());
  const box = [Math.min(...bs.map(b => b.x)), Math.min(...bs.map(b => b.y)),
               Math.max(...bs.map(b => b.x + b.width)), Math.max(...bs.map(b => b.y + b.height))];
  const stroke = Math.max(...shapes.map(s => parseFloat(s.getAttribute('stroke-width') || '1')));
  out.push({title: g.querySelector('title').textContent, box, stroke,
            texts: texts.map(t => { const b = t.getBBox();
                                    return [t.textContent, b.x, b.y, b.x + b.width, b.y + b.height]; })});
}
return out;
"""


def test_chromium_draws_every_node_text_inside_its_box(chromium: Any, pictures: list[Path]) -> None:
    spills = []
    for path in pictures:
        chromium.get(path.as_uri())
        nodes = chromium.execute_script(MEASURE)
        assert nodes, path
        for node in nodes:
            h = node["stroke"] / 2
            x0, y0, x1, y1 = node["box"]
            for text, tx0, ty0, tx1, ty1 in node["texts"]:
                # getBBox of a text is its advance box, ascent to descent: the width must fit
                # inside the stroke, the height inside the box
                over = max(x0 + h - tx0, tx1 - (x1 - h), y0 - ty0, ty1 - y1)
                if over > SLACK:
                    spills.append(f"{_where(path)} {node['title']}: {text!r} "
                                  f"{over:.1f} units past its box")
    assert not spills, "\n".join(spills)
