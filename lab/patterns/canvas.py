"""A drawing canvas for the pattern page: paint the 32×32 pixels by dragging (ink or erase,
brush 1-3 pixels), built on Streamlit's own custom components (``st.components.v2``: inline
HTML, CSS and JavaScript, nothing to build or download, no third-party package).

The browser sends the drawing when a stroke ends, as 256 hex digits (4 pixels each); the
server trusts none of it: :func:`lab.patterns.completion.ink_of_hex` checks the type, the
length and every digit before anything is decoded, and a refused value is a message. The
canvas is redrawn from the server's copy whenever ``version`` changes (a clear, a restore
after a reload), never in the middle of a stroke."""
from __future__ import annotations

import streamlit as st

HTML = """
<div class="nn-draw">
  <canvas class="nn-canvas" width="320" height="320" aria-label="drawing canvas, 32 by 32
    pixels: press and drag to paint"></canvas>
  <div class="nn-tools">
    <button type="button" data-mode="ink" class="on">✏️ Ink</button>
    <button type="button" data-mode="erase">🧽 Erase</button>
    <label>Brush <select class="nn-brush"><option>1</option><option selected>2</option>
      <option>3</option></select> px</label>
    <button type="button" data-act="clear">Clear</button>
    <span class="nn-count"></span>
  </div>
</div>
"""

CSS = """
.nn-draw { display: flex; gap: 1rem; align-items: flex-start; flex-wrap: wrap; }
.nn-canvas { width: 320px; height: 320px; border: 1px solid #999; cursor: crosshair;
             touch-action: none; image-rendering: pixelated; background: #fff; }
.nn-tools { display: flex; flex-direction: column; gap: 0.4rem; font: 14px sans-serif; }
.nn-tools button { padding: 0.3rem 0.7rem; border: 1px solid #bbb; border-radius: 0.4rem;
                   background: #fff; cursor: pointer; font: inherit; }
.nn-tools button.on { border-color: var(--st-primary-color, #4C78A8);
                      box-shadow: inset 0 0 0 1px var(--st-primary-color, #4C78A8); }
.nn-count { color: #666; }
"""

JS = """
const SIDE = 32, CELL = 10, DIGITS = 256;

function toHex(bits) {
  let out = "";
  for (let i = 0; i < DIGITS; i++) {
    const v = bits[4*i] * 8 + bits[4*i+1] * 4 + bits[4*i+2] * 2 + bits[4*i+3];
    out += v.toString(16);
  }
  return out;
}

function fromHex(text, bits) {
  bits.fill(0);
  if (typeof text !== "string" || text.length !== DIGITS) return;
  for (let i = 0; i < DIGITS; i++) {
    const v = parseInt(text[i], 16) || 0;
    bits[4*i] = (v >> 3) & 1; bits[4*i+1] = (v >> 2) & 1;
    bits[4*i+2] = (v >> 1) & 1; bits[4*i+3] = v & 1;
  }
}

export default function(component) {
  const { data, setStateValue, parentElement } = component;
  const root = parentElement.querySelector(".nn-draw");
  const canvas = root.querySelector(".nn-canvas");
  const ctx = canvas.getContext("2d");
  const count = root.querySelector(".nn-count");
  if (!root._nn) root._nn = { bits: new Uint8Array(SIDE * SIDE), mode: "ink", down: false,
                              version: null };
  const st = root._nn;

  function paintAll() {
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#111111";
    let n = 0;
    for (let i = 0; i < SIDE * SIDE; i++) if (st.bits[i]) {
      n++; ctx.fillRect((i % SIDE) * CELL, Math.floor(i / SIDE) * CELL, CELL, CELL);
    }
    ctx.strokeStyle = "#eeeeee"; ctx.lineWidth = 1;
    for (let k = 0; k <= SIDE; k += 8) {
      ctx.beginPath(); ctx.moveTo(k * CELL + 0.5, 0); ctx.lineTo(k * CELL + 0.5, SIDE * CELL);
      ctx.moveTo(0, k * CELL + 0.5); ctx.lineTo(SIDE * CELL, k * CELL + 0.5); ctx.stroke();
    }
    count.textContent = n + " of " + SIDE * SIDE + " pixels inked";
  }
  if (data && st.version !== data.version) {       // a clear or a restore from the server
    fromHex(data.bits, st.bits); st.version = data.version;
  }
  paintAll();

  function at(ev) {
    const r = canvas.getBoundingClientRect();
    return [Math.floor((ev.clientX - r.left) / r.width * SIDE),
            Math.floor((ev.clientY - r.top) / r.height * SIDE)];
  }
  function dab(ev) {
    const [x, y] = at(ev);
    const b = parseInt(root.querySelector(".nn-brush").value, 10) || 1;
    const lo = -Math.floor((b - 1) / 2);
    for (let dy = lo; dy < lo + b; dy++) for (let dx = lo; dx < lo + b; dx++) {
      const cx = x + dx, cy = y + dy;
      if (cx >= 0 && cx < SIDE && cy >= 0 && cy < SIDE)
        st.bits[cy * SIDE + cx] = st.mode === "ink" ? 1 : 0;
    }
    paintAll();
  }
  function send() { setStateValue("bits", toHex(st.bits)); }
  canvas.onpointerdown = (ev) => { st.down = true; canvas.setPointerCapture(ev.pointerId);
                                   dab(ev); };
  canvas.onpointermove = (ev) => { if (st.down) dab(ev); };
  canvas.onpointerup = (ev) => { if (st.down) { st.down = false; send(); } };
  canvas.onpointercancel = canvas.onpointerup;
  root.querySelectorAll("button[data-mode]").forEach((btn) => {
    btn.onclick = () => {
      st.mode = btn.dataset.mode;
      root.querySelectorAll("button[data-mode]").forEach(
        (b) => b.classList.toggle("on", b === btn));
    };
  });
  root.querySelector("button[data-act=clear]").onclick = () => {
    st.bits.fill(0); paintAll(); send();
  };
}
"""

_draw = st.components.v2.component("nuonuo_draw", html=HTML, css=CSS, js=JS)
WIDGET_KEY = "pc_canvas_widget"


def canvas(bits: str, version: int, on_change) -> None:
    """Mount the canvas showing ``bits`` (a checked drawing, hex) whenever ``version``
    changes; ``on_change()`` runs when a stroke ends (read the value with :func:`sent`)."""
    _draw(key=WIDGET_KEY, data={"bits": bits, "version": int(version)},
          default={"bits": bits}, on_bits_change=on_change, height=330)


def sent():
    """What the browser sent last (unchecked: pass it to ``completion.ink_of_hex``)."""
    value = st.session_state.get(WIDGET_KEY)
    if value is None:
        return None
    try:
        return value.get("bits") if hasattr(value, "get") else value["bits"]
    except (KeyError, TypeError):
        return None

