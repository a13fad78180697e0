/** An SVG plot frame: grid, axes with ticks, labels. Shared by line charts, histograms and bar charts. */
import { el, text } from "./svg.js";
import { fmt, linear, log, logTicks, niceTicks, intTicks, type Scale } from "./scale.js";

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  scale: Scale;
  format: (v: number) => string;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** An axis over data in [lo, hi] mapped to pixels [p0, p1]. */
export function makeAxis(lo: number, hi: number, p0: number, p1: number, kind: "linear" | "log" | "int" = "linear"): Axis {
  if (kind === "log") {
    const t = logTicks(lo, hi);
    return { ...t, scale: log(t.lo, t.hi, p0, p1), format: (v) => fmt(v, 3) };
  }
  const t = kind === "int" ? intTicks(lo, hi) : niceTicks(lo, hi);
  return { ...t, scale: linear(t.lo, t.hi, p0, p1), format: (v) => fmt(v, 4) };
}

const GRID = "#e3e3e3";
const AXIS = "#888";

/** Grid lines, tick labels, axis labels and a frame around `b`. */
export function frame(b: Box, xa: Axis, ya: Axis, labels: { x?: string; y?: string; title?: string }): string[] {
  const out: string[] = [];
  for (const t of ya.ticks) {
    const y = ya.scale(t);
    out.push(el("line", { x1: b.x, x2: b.x + b.w, y1: y, y2: y, stroke: GRID }));
    out.push(text(b.x - 6, y + 4, ya.format(t), { "text-anchor": "end", fill: "#444" }));
  }
  for (const t of xa.ticks) {
    const x = xa.scale(t);
    out.push(el("line", { x1: x, x2: x, y1: b.y, y2: b.y + b.h, stroke: GRID }));
    out.push(text(x, b.y + b.h + 16, xa.format(t), { "text-anchor": "middle", fill: "#444" }));
  }
  out.push(el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, fill: "none", stroke: AXIS }));
  if (labels.x) out.push(text(b.x + b.w / 2, b.y + b.h + 34, labels.x, { "text-anchor": "middle", "font-size": 13, class: "axis-label" }));
  if (labels.y) {
    const cx = b.x - 50, cy = b.y + b.h / 2;
    out.push(text(cx, cy, labels.y, { "text-anchor": "middle", "font-size": 13, transform: `rotate(-90 ${cx} ${cy})`, class: "axis-label" }));
  }
  if (labels.title) out.push(text(b.x, b.y - 8, labels.title, { "font-size": 13, "font-weight": "bold" }));
  return out;
}
