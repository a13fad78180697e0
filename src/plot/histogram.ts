/** Histograms of values (activations, weights) with the mean marked (Srivastava et al. Fig. 8). */
import { frame, makeAxis } from "./chart.js";
import { SERIES_COLORS } from "./colormap.js";
import { Display, DISPLAY, type MimeBundle } from "./display.js";
import { stats, toDense, type ArrayInput } from "./input.js";
import { fmt } from "./scale.js";
import { el, escapeXml, pathData, svgDoc, text } from "./svg.js";

export interface HistogramOptions {
  title?: string;
  /** Number of equal-width bins (default 40). */
  bins?: number;
  /** Value range binned (default: min..max over all series); values outside are counted apart. */
  range?: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Fractions instead of counts (default false). */
  density?: boolean;
  width?: number;
  height?: number;
}

export interface HistogramSeries {
  name: string;
  counts: number[];
  mean: number;
  std: number;
  total: number;
  outside: number;
}

export class Histogram extends Display {
  readonly edges: number[];
  readonly series: HistogramSeries[];
  private readonly summary: string;

  constructor(values: ArrayInput | Readonly<Record<string, ArrayInput>>, private readonly o: HistogramOptions = {}) {
    super();
    const named = Array.isArray(values) || "shape" in (values as object)
      ? [["values", values as ArrayInput] as const]
      : Object.entries(values as Record<string, ArrayInput>);
    if (!named.length) throw new Error("histogram: no values");
    const data = named.map(([name, v]) => ({ name, d: toDense(v, `histogram ${name}`).data }));
    const st = data.map((s) => stats(s.d));
    const [lo, hi] = o.range ?? [Math.min(...st.map((s) => s.min)), Math.max(...st.map((s) => s.max))];
    if (!(Number.isFinite(lo) && Number.isFinite(hi))) throw new Error("histogram: no finite values");
    const bins = o.bins ?? 40;
    if (!(Number.isInteger(bins) && bins > 0)) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
    const width = hi > lo ? (hi - lo) / bins : 1;
    this.edges = Array.from({ length: bins + 1 }, (_, i) => (hi > lo ? lo + i * width : lo - 0.5 + i / bins));
    this.series = data.map((s, k) => {
      const counts = new Array<number>(bins).fill(0);
      let outside = 0;
      for (let i = 0; i < s.d.length; i++) {
        const v = s.d[i];
        if (!Number.isFinite(v) || v < lo || v > hi) { outside++; continue; }
        counts[hi > lo ? Math.min(bins - 1, Math.floor((v - lo) / width)) : Math.floor(bins / 2)]++;
      }
      return { name: s.name, counts, mean: st[k].mean, std: st[k].std, total: s.d.length, outside };
    });
    this.summary = [`${o.title ? o.title + ": " : ""}histogram, ${bins} bins over [${fmt(lo)}, ${fmt(hi)}]`,
      ...this.series.map((s) => `  ${s.name}: n ${s.total}, mean ${fmt(s.mean)}, std ${fmt(s.std)}${s.outside ? `, ${s.outside} outside the range` : ""}`)].join("\n");
  }

  svg(): string {
    const o = this.o;
    const W = o.width ?? 520, H = o.height ?? 240;
    const left = 76, top = o.title ? 46 : 20;
    const heights = this.series.map((s) => s.counts.map((c) => (o.density ? c / Math.max(1, s.total) : c)));
    const ymax = Math.max(...heights.flat(), 1e-12);
    const b = { x: left, y: top, w: W, h: H };
    const xa = makeAxis(this.edges[0], this.edges[this.edges.length - 1], b.x, b.x + b.w);
    const ya = makeAxis(0, ymax, b.y + b.h, b.y);
    const body: string[] = [];
    if (o.title) body.push(text(left, 26, o.title, { "font-size": 16, "font-weight": "bold", class: "title" }));
    body.push(...frame(b, xa, ya, { x: o.xLabel ?? "value", y: o.yLabel ?? (o.density ? "fraction" : "count") }));
    this.series.forEach((s, k) => {
      const color = SERIES_COLORS[k % SERIES_COLORS.length];
      const xs: number[] = [xa.scale(this.edges[0])], ys: number[] = [ya.scale(0)];
      heights[k].forEach((h, i) => { xs.push(xa.scale(this.edges[i]), xa.scale(this.edges[i + 1])); ys.push(ya.scale(h), ya.scale(h)); });
      xs.push(xa.scale(this.edges[this.edges.length - 1])); ys.push(ya.scale(0));
      body.push(el("path", { d: pathData(xs, ys), fill: color, "fill-opacity": 0.3, stroke: color, "stroke-width": 1.5, class: "bars" }, el("title", {}, escapeXml(s.name))));
    });
    this.series.forEach((s, k) => {
      const color = SERIES_COLORS[k % SERIES_COLORS.length];
      const x = xa.scale(s.mean);
      if (!Number.isFinite(x)) return;
      body.push(el("g", { class: "mean-marker" },
        el("line", { x1: x, x2: x, y1: b.y, y2: b.y + b.h, stroke: color, "stroke-width": 1.5, "stroke-dasharray": "5 3" }),
        text(x + 4, b.y + 14 + 16 * k, `mean ${fmt(s.mean, 3)}`, { fill: color })));
    });
    const lx = left + W + 20;
    this.series.forEach((s, k) => {
      const color = SERIES_COLORS[k % SERIES_COLORS.length];
      const y = top + 8 + 20 * k;
      body.push(el("g", { class: "legend-entry" }, el("rect", { x: lx, y: y - 10, width: 14, height: 12, fill: color, "fill-opacity": 0.3, stroke: color }), text(lx + 20, y, s.name)));
    });
    const legendW = Math.max(...this.series.map((s) => s.name.length)) * 7 + 40;
    return svgDoc(left + W + 20 + legendW, top + H + 50, body, o.title ?? "histogram");
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary, "image/svg+xml": this.svg() };
  }
}

/** A histogram of one array, or several overlaid (`{ "with dropout": a, "without": b }`), each mean marked. */
export function histogram(values: ArrayInput | Readonly<Record<string, ArrayInput>>, options: HistogramOptions = {}): Histogram {
  return new Histogram(values, options);
}
