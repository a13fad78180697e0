/** MC-dropout predictive uncertainty: per-class mean ± std bars for a few examples. */
import { frame, makeAxis } from "./chart.js";
import { Display, DISPLAY, type MimeBundle } from "./display.js";
import { expectRank, toDense, type ArrayInput } from "./input.js";
import { fmt } from "./scale.js";
import { el, escapeXml, svgDoc, text } from "./svg.js";

export interface UncertaintyInput {
  /** [examples, classes] mean of the sampled predictions. */
  mean: ArrayInput;
  /** [examples, classes] standard deviation across samples. */
  std: ArrayInput;
}

export interface UncertaintyOptions {
  title?: string;
  classNames?: string[];
  /** True class of each example, highlighted. */
  labels?: number[];
  /** Examples drawn at most (default 6). */
  maxExamples?: number;
  /** Panels per row (default 3). */
  columns?: number;
  yLabel?: string;
}

export class UncertaintyPlot extends Display {
  private readonly mean: number[][];
  private readonly std: number[][];
  private readonly summary: string;

  constructor(input: UncertaintyInput, private readonly o: UncertaintyOptions = {}) {
    super();
    const m = toDense(input.mean, "mean"), s = toDense(input.std, "std");
    expectRank(m, [2], "mean");
    if (m.shape.join() !== s.shape.join()) throw new Error(`uncertaintyPlot: mean [${m.shape}] and std [${s.shape}] differ in shape`);
    const [N, K] = m.shape;
    const n = Math.min(N, o.maxExamples ?? 6);
    const rows = (d: typeof m) => Array.from({ length: n }, (_, i) => Array.from({ length: K }, (_, k) => d.data[i * K + k]));
    this.mean = rows(m);
    this.std = rows(s);
    if (o.classNames && o.classNames.length !== K) throw new Error(`uncertaintyPlot: ${o.classNames.length} class names for ${K} classes`);
    const lines = this.mean.map((row, i) => {
      const p = row.indexOf(Math.max(...row));
      const truth = o.labels?.[i];
      return `  example ${i}: predicted ${this.name(p)} (${fmt(row[p], 3)} ± ${fmt(this.std[i][p], 3)})${truth !== undefined ? `, true ${this.name(truth)}` : ""}`;
    });
    this.summary = [`${o.title ? o.title + ": " : ""}predictive mean ± std over ${K} classes, ${n}${n < N ? ` of ${N}` : ""} examples`, ...lines].join("\n");
  }

  private name(k: number): string {
    return this.o.classNames?.[k] ?? String(k);
  }

  svg(): string {
    const o = this.o;
    const n = this.mean.length, K = this.mean[0]?.length ?? 0;
    const cols = Math.min(n, o.columns ?? 3), rows = Math.ceil(n / cols);
    const pw = Math.max(160, K * 22), ph = 150, left = 70, top = o.title ? 64 : 24, gapX = 70, gapY = 80;
    const hi = Math.max(1, ...this.mean.flatMap((r, i) => r.map((v, k) => v + this.std[i][k])).filter(Number.isFinite));
    const body: string[] = [];
    if (o.title) body.push(text(left, 26, o.title, { "font-size": 16, "font-weight": "bold", class: "title" }));
    this.mean.forEach((row, i) => {
      const b = { x: left + (i % cols) * (pw + gapX), y: top + Math.floor(i / cols) * (ph + gapY), w: pw, h: ph };
      const ya = makeAxis(0, hi, b.y + b.h, b.y);
      const xa = { lo: 0, hi: K, ticks: [], scale: (v: number) => b.x + (v / K) * b.w, format: String };
      const truth = o.labels?.[i];
      body.push(...frame(b, xa, ya, { y: i % cols === 0 ? (o.yLabel ?? "probability") : undefined, title: `example ${i}${truth !== undefined ? ` (true ${this.name(truth)})` : ""}` }));
      const bw = (b.w / K) * 0.7;
      row.forEach((v, k) => {
        const x = xa.scale(k + 0.5), sd = this.std[i][k];
        const y0 = ya.scale(0), y = ya.scale(Math.max(0, v));
        const lo = ya.scale(Math.max(0, v - sd)), up = ya.scale(v + sd);
        body.push(el("g", { class: "class-bar" },
          el("title", {}, escapeXml(`${this.name(k)}: ${fmt(v, 3)} ± ${fmt(sd, 3)}`)),
          el("rect", { x: x - bw / 2, y, width: bw, height: y0 - y, fill: k === truth ? "#D55E00" : "#0072B2", "fill-opacity": 0.75 }),
          el("line", { x1: x, x2: x, y1: lo, y2: up, stroke: "#222", "stroke-width": 1.2 }),
          el("line", { x1: x - bw / 4, x2: x + bw / 4, y1: up, y2: up, stroke: "#222", "stroke-width": 1.2 }),
          el("line", { x1: x - bw / 4, x2: x + bw / 4, y1: lo, y2: lo, stroke: "#222", "stroke-width": 1.2 }),
          text(x, b.y + b.h + 15, this.name(k), { "text-anchor": "middle", "font-size": 11, fill: "#444" })));
      });
    });
    const key = `bars: predictive mean; whiskers: ±1 std${o.labels ? "; orange: true class" : ""}`;
    const height = top + rows * (ph + gapY) - 30;
    body.push(text(left, height - 8, key, { "font-size": 11, fill: "#444", class: "key" }));
    return svgDoc(left + cols * (pw + gapX), height + 6, body, o.title ?? "predictive uncertainty");
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary, "image/svg+xml": this.svg() };
  }
}

/** Bars of the predictive mean per class with ±1 std whiskers; the true class (if given) in orange. */
export function uncertaintyPlot(input: UncertaintyInput, options: UncertaintyOptions = {}): UncertaintyPlot {
  return new UncertaintyPlot(input, options);
}
