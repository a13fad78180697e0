/** Loss and metric curves for one or several training runs: SVG, Vega-Lite and a text summary. */
import { frame, makeAxis, type Box } from "./chart.js";
import { SERIES_COLORS } from "./colormap.js";
import { Display, DISPLAY, type MimeBundle } from "./display.js";
import { ema, minMaxDownsample } from "./downsample.js";
import { stats } from "./input.js";
import { fmt } from "./scale.js";
import { el, escapeXml, pathDataRel, svgDoc, text } from "./svg.js";

/** A plain curve. Without `x`, points sit at 0, 1, 2, … */
export interface Series {
  name: string;
  x?: readonly number[];
  y: readonly number[];
}

/** One row per epoch. Accuracies are fractions in [0, 1]. Other metrics follow the same naming:
 * `train<Name>` / `val<Name>` (e.g. `valPerplexity`, plotted with `metrics: ["perplexity"]`). On the step
 * axis, an epoch row is placed at its `step` field (the global batch count) when it has one, else at the
 * last step of its epoch in `batches`. */
export interface EpochRecord {
  epoch: number;
  trainLoss?: number;
  valLoss?: number;
  trainAcc?: number;
  valAcc?: number;
  [key: string]: number | undefined;
}

/** The fields of an epoch row this plot knows by name: what an interface such as `fit`'s `EpochLog`
 * (which has no index signature) is read through; further numeric fields are still read at run time. */
export interface EpochFields {
  epoch: number;
  step?: number;
  trainLoss?: number;
  valLoss?: number;
  trainAcc?: number;
  valAcc?: number;
}

/** The shape of a training History this plot reads: per-epoch rows and optional per-batch losses
 * (`fit`'s History as it is). */
export interface HistoryLike {
  epochs: readonly (EpochRecord | EpochFields)[];
  batches?: readonly { step: number; loss: number; epoch?: number }[];
}

export interface NamedRun {
  name: string;
  history: HistoryLike;
}

/** One History, several (`{ "p=0.5": h1, "p=0": h2 }`, `[{ name, history }]`, or `[h1, h2]` named by
 * `options.labels`), or plain curves. */
export type LossPlotInput =
  HistoryLike | Series | readonly Series[] | readonly NamedRun[] | readonly HistoryLike[] | Readonly<Record<string, HistoryLike>>;

export type Split = "train" | "val";

export interface LossPlotOptions {
  title?: string;
  /** Panels, top to bottom: "loss", "accuracy", "error" (100 × (1 − accuracy), in %), or any name whose
   * `train<Name>`/`val<Name>` fields the epochs hold. Default: loss, plus accuracy when recorded. */
  metrics?: string[];
  /** Which curves to draw (default both). */
  splits?: Split[];
  /** Logarithmic y axis on every panel except accuracy and error. */
  logY?: boolean;
  /** Exponential moving average weight in [0, 1) (0.6 is a light touch, 0.9 heavy). The raw curve stays, faint. */
  smoothing?: number;
  /** x axis: "epoch" (default) or "step" (per-batch training loss from `history.batches`). */
  axis?: "epoch" | "step";
  xLabel?: string;
  /** y label when plotting plain series (default "value"). */
  yLabel?: string;
  /** Name of a single run (default none: the legend says just "train"/"val"). */
  name?: string;
  /** Names of the runs when the input is an array of Histories (default "run 1", "run 2", …). */
  labels?: string[];
  /** Mark the epoch of minimum validation loss per run (default true). */
  best?: boolean;
  /** Plot area size in px (default 560 × 220 per panel). */
  width?: number;
  panelHeight?: number;
}

interface Curve {
  label: string;
  run: string;
  split: Split | "";
  color: string;
  dash?: string;
  x: number[];
  y: number[];
  raw?: number[];
}

interface Panel {
  metric: string;
  label: string;
  log: boolean;
  curves: Curve[];
  best: { run: string; color: string; x: number; y: number }[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isHistory = (v: unknown): v is HistoryLike => isObj(v) && Array.isArray(v.epochs);
const isSeries = (v: unknown): v is Series => isObj(v) && typeof v.name === "string" && Array.isArray(v.y);
const isRun = (v: unknown): v is NamedRun => isObj(v) && typeof v.name === "string" && isHistory(v.history);

function runsOf(input: LossPlotInput, o: LossPlotOptions): NamedRun[] | Series[] {
  if (o.labels !== undefined && !(Array.isArray(input) && input.every(isHistory))) {
    throw new Error("lossPlot: options.labels names the runs of an array of Histories; name other runs in the input");
  }
  if (isHistory(input)) return [{ name: o.name ?? "", history: input }];
  if (isSeries(input)) return [input];
  if (Array.isArray(input)) {
    if (input.length && input.every(isSeries)) return input as Series[];
    if (input.length && input.every(isRun)) return input as NamedRun[];
    if (input.length && input.every(isHistory)) {
      const labels = o.labels ?? input.map((_, i) => `run ${i + 1}`);
      if (labels.length !== input.length) throw new Error(`lossPlot: ${labels.length} labels for ${input.length} histories`);
      return (input as HistoryLike[]).map((history, i) => ({ name: labels[i], history }));
    }
    throw new Error("lossPlot: an array must hold only Series ({ name, y }), only runs ({ name, history }) or only Histories ({ epochs })");
  }
  if (isObj(input)) {
    const entries = Object.entries(input);
    if (entries.length && entries.every(([, h]) => isHistory(h))) return entries.map(([n, h]) => ({ name: n, history: h as HistoryLike }));
  }
  throw new Error("lossPlot: expected a History ({ epochs }), several ({ name: history }, [{ name, history }] or [history, …] with options.labels) or Series ({ name, y })");
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const METRIC_LABEL: Record<string, string> = { loss: "loss", accuracy: "accuracy", error: "error (%)" };

/** A numeric field of an epoch row, by name. */
const field = (e: EpochRecord | EpochFields, name: string): number | undefined => {
  const v = (e as Record<string, unknown>)[name];
  return typeof v === "number" ? v : undefined;
};

/** Where an epoch row sits on the step axis: its `step`, else the last step of its epoch in `batches`. */
function epochStep(h: HistoryLike, e: EpochRecord | EpochFields): number | undefined {
  const own = field(e, "step");
  if (own !== undefined || !h.batches) return own;
  let at: number | undefined;
  for (const b of h.batches) if (b.epoch === e.epoch && (at === undefined || b.step > at)) at = b.step;
  return at;
}

/** The y values of one metric and split, from a History. This is the whole History adapter. */
export function historyCurve(h: HistoryLike, metric: string, split: Split, axis: "epoch" | "step"): { x: number[]; y: number[] } {
  if (axis === "step" && metric === "loss" && split === "train") {
    if (!h.batches?.length) throw new Error("lossPlot: the step axis needs history.batches ({ step, loss } per batch)");
    return { x: h.batches.map((b) => b.step), y: h.batches.map((b) => b.loss) };
  }
  const name = metric === "accuracy" || metric === "error" ? `${split}Acc` : `${split}${cap(metric)}`;
  const x: number[] = [], y: number[] = [];
  for (const e of h.epochs) {
    const v = field(e, name);
    const at = axis === "step" ? epochStep(h, e) : e.epoch;
    if (v === undefined || at === undefined) continue;
    x.push(at);
    y.push(metric === "error" ? 100 * (1 - v) : v);
  }
  return { x, y };
}

export class LossPlot extends Display {
  private readonly panels: Panel[];
  private readonly o: Required<Pick<LossPlotOptions, "width" | "panelHeight">> & LossPlotOptions;
  private readonly summary: string;
  /** Plain series rather than histories. */
  private readonly plain: boolean;

  constructor(input: LossPlotInput, options: LossPlotOptions = {}) {
    super();
    this.o = { width: 560, panelHeight: 220, ...options };
    const o = this.o;
    const axis = o.axis ?? "epoch";
    const runs = runsOf(input, o);
    const lines: string[] = [];
    this.plain = isSeries(runs[0]);
    if (this.plain) {
      const series = runs as Series[];
      const curves = series.map((s, i) => ({
        label: s.name, run: s.name, split: "" as const, color: SERIES_COLORS[i % SERIES_COLORS.length],
        x: s.x ? [...s.x] : s.y.map((_, k) => k), y: [...s.y],
      }));
      for (const c of curves) {
        if (c.x.length !== c.y.length) throw new Error(`lossPlot: series "${c.label}" has ${c.x.length} x and ${c.y.length} y values`);
      }
      this.panels = [{ metric: "value", label: o.yLabel ?? "value", log: !!o.logY, curves, best: [] }];
      for (const c of curves) {
        const st = stats(c.y);
        lines.push(`  ${c.label}: ${c.y.length} points, last ${fmt(c.y[c.y.length - 1])}, min ${fmt(st.min)}, max ${fmt(st.max)}`);
      }
    } else {
      const named = runs as NamedRun[];
      const has = (f: string) => named.some((r) => r.history.epochs.some((e) => field(e, f) !== undefined));
      const metrics = o.metrics ?? [...(has("trainLoss") || has("valLoss") || axis === "step" ? ["loss"] : []), ...(has("trainAcc") || has("valAcc") ? ["accuracy"] : [])];
      if (!metrics.length) throw new Error("lossPlot: the history records no loss or accuracy; pass options.metrics");
      const splits = o.splits ?? ["train", "val"];
      this.panels = metrics.map((metric) => {
        const panel: Panel = { metric, label: METRIC_LABEL[metric] ?? metric, log: !!o.logY && metric !== "accuracy" && metric !== "error", curves: [], best: [] };
        named.forEach((run, i) => {
          for (const split of splits) {
            const { x, y } = historyCurve(run.history, metric, split, axis);
            if (!y.length) continue;
            const single = named.length === 1;
            panel.curves.push({
              label: [run.name, split].filter(Boolean).join(" "), run: run.name, split,
              color: SERIES_COLORS[(single ? (split === "train" ? 0 : 1) : i) % SERIES_COLORS.length],
              dash: split === "val" ? "6 3" : undefined, x, y,
            });
          }
          if (metric === "loss" && o.best !== false) {
            const v = historyCurve(run.history, "loss", "val", axis);
            let k = -1;
            v.y.forEach((val, j) => { if (Number.isFinite(val) && (k < 0 || val < v.y[k])) k = j; });
            if (k >= 0) panel.best.push({ run: run.name, color: panel.curves.find((c) => c.run === run.name && c.split === "val")?.color ?? "#000", x: v.x[k], y: v.y[k] });
          }
        });
        if (!panel.curves.length) throw new Error(`lossPlot: no ${splits.join("/")} values for metric "${metric}"`);
        return panel;
      });
      for (const run of named) {
        const ep = run.history.epochs;
        const last = ep[ep.length - 1] ?? { epoch: NaN };
        const parts = [`${ep.length} epochs`];
        for (const f of ["trainLoss", "valLoss", "trainAcc", "valAcc"]) {
          const v = field(last, f);
          if (v !== undefined) parts.push(`final ${f} ${fmt(v)}`);
        }
        const b = this.panels.find((p) => p.metric === "loss")?.best.find((q) => q.run === run.name);
        if (b) parts.push(`best valLoss ${fmt(b.y)} at ${axis} ${b.x}`);
        lines.push(`  ${run.name || "run"}: ${parts.join(", ")}`);
      }
    }
    if (o.smoothing) {
      for (const p of this.panels) for (const c of p.curves) { c.raw = c.y; c.y = ema(c.y, o.smoothing); }
    }
    if (o.logY) {
      for (const p of this.panels.filter((q) => q.log)) {
        if (!p.curves.some((c) => c.y.some((v) => v > 0))) throw new Error(`lossPlot: logY needs positive ${p.label} values`);
      }
    }
    const what = this.plain
      ? `${runs.length} series` : `${this.panels.map((p) => p.label).join(" and ")} over ${axis === "step" ? "steps" : "epochs"}`;
    const head = `${o.title ? o.title + ": " : ""}${what}`;
    this.summary = [head, ...lines].join("\n");
  }

  /** x/y ranges of a panel (positive values only on a log axis). */
  private ranges(p: Panel) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const c of p.curves) {
      for (const [xs, ys] of [[c.x, c.y], [c.x, c.raw ?? []]] as const) {
        for (let i = 0; i < ys.length; i++) {
          const v = ys[i];
          if (!Number.isFinite(v) || (p.log && v <= 0)) continue;
          x0 = Math.min(x0, xs[i]); x1 = Math.max(x1, xs[i]);
          y0 = Math.min(y0, v); y1 = Math.max(y1, v);
        }
      }
    }
    return { x0, x1, y0, y1 };
  }

  /** Points per curve, downsampled so that every chart stays small whatever the run length. */
  private buckets(): number {
    const drawn = this.panels.reduce((n, p) => n + p.curves.reduce((m, c) => m + (c.raw ? 2 : 1), 0), 0);
    return Math.max(40, Math.min(this.o.width, Math.floor(3600 / (2 * drawn))));
  }

  private xLabel(): string {
    return this.o.xLabel ?? (this.plain ? "x" : this.o.axis === "step" ? "step" : "epoch");
  }

  /** The static SVG chart. */
  svg(): string {
    const o = this.o;
    const W = o.width, H = o.panelHeight;
    const left = 76, top = o.title ? 46 : 26, panelGap = 70;
    const legend = this.legend();
    const legendW = Math.max(...legend.map((l) => l.text.length)) * 7 + 40;
    const width = left + W + 20 + legendW;
    const height = top + this.panels.length * (H + panelGap) - 10;
    const body: string[] = [];
    if (o.title) body.push(text(left, 26, o.title, { "font-size": 16, "font-weight": "bold", class: "title" }));
    const buckets = this.buckets();
    this.panels.forEach((p, i) => {
      const b: Box = { x: left, y: top + i * (H + panelGap), w: W, h: H };
      const r = this.ranges(p);
      const xa = makeAxis(r.x0, r.x1, b.x, b.x + b.w, this.plain ? "linear" : "int");
      const ya = makeAxis(r.y0, r.y1, b.y + b.h, b.y, p.log ? "log" : "linear");
      body.push(...frame(b, xa, ya, { x: this.xLabel(), y: p.label + (p.log ? " (log)" : "") }));
      const clip = `clip${i}`;
      body.push(el("clipPath", { id: clip }, el("rect", { x: b.x, y: b.y, width: b.w, height: b.h })));
      const paths: string[] = [];
      const draw = (xs: number[], ys: number[], c: Curve, faint: boolean) => {
        const d = minMaxDownsample({ x: xs, y: ys.map((v) => (p.log && v <= 0 ? NaN : v)) }, buckets, xa.lo, xa.hi);
        paths.push(el("path", {
          d: pathDataRel(d.x.map(xa.scale), d.y.map(ya.scale)), fill: "none", stroke: c.color,
          "stroke-width": faint ? 1 : 1.8, "stroke-opacity": faint ? 0.3 : undefined, "stroke-dasharray": faint ? undefined : c.dash,
          "stroke-linejoin": "round", class: faint ? "raw" : "series",
        }, el("title", {}, escapeXml(c.label))));
      };
      for (const c of p.curves) if (c.raw) draw(c.x, c.raw, c, true);
      for (const c of p.curves) draw(c.x, c.y, c, false);
      body.push(el("g", { "clip-path": `url(#${clip})` }, ...paths));
      // markers unclipped: a best epoch at either end stays a whole dot
      for (const q of p.best) {
        const cx = xa.scale(q.x), cy = ya.scale(q.y);
        body.push(el("g", { class: "best-marker" },
          el("title", {}, escapeXml(`best ${q.run ? q.run + " " : ""}val loss ${fmt(q.y)} at ${this.o.axis ?? "epoch"} ${q.x}`)),
          el("line", { x1: cx, x2: cx, y1: b.y, y2: b.y + b.h, stroke: q.color, "stroke-opacity": 0.5, "stroke-dasharray": "2 3" }),
          el("circle", { cx, cy, r: 5, fill: q.color, stroke: "#fff", "stroke-width": 1.5 }),
        ));
      }
    });
    const lx = left + W + 20;
    legend.forEach((l, k) => {
      const y = top + 8 + k * 20;
      const sample = l.marker
        ? el("circle", { cx: lx + 12, cy: y - 4, r: 5, fill: l.color, stroke: "#fff" })
        : el("line", { x1: lx, x2: lx + 24, y1: y - 4, y2: y - 4, stroke: l.color, "stroke-width": 2, "stroke-dasharray": l.dash });
      body.push(el("g", { class: "legend-entry" }, sample, text(lx + 30, y, l.text)));
    });
    return svgDoc(width, height, body, o.title ?? "loss curves");
  }

  private legend(): { text: string; color: string; dash?: string; marker?: boolean }[] {
    const seen = new Set<string>();
    const out: { text: string; color: string; dash?: string; marker?: boolean }[] = [];
    for (const p of this.panels) for (const c of p.curves) {
      if (!seen.has(c.label)) { seen.add(c.label); out.push({ text: c.label, color: c.color, dash: c.dash }); }
    }
    const bests = this.panels.flatMap((p) => p.best);
    if (bests.length) out.push({ text: "best (min val loss)", color: bests.length === 1 ? bests[0].color : "#555", marker: true });
    return out;
  }

  /** A Vega-Lite v5 spec with the (smoothed, downsampled) data inline. */
  vegaLite(): Record<string, unknown> {
    const o = this.o;
    const buckets = this.buckets();
    const labels = this.legend().filter((l) => !l.marker);
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      ...(o.title ? { title: o.title } : {}),
      background: "white",
      vconcat: this.panels.map((p) => {
        const values: Record<string, unknown>[] = [];
        for (const c of p.curves) {
          const d = minMaxDownsample({ x: c.x, y: c.y }, buckets);
          d.x.forEach((x, i) => values.push({ series: c.label, run: c.run, split: c.split, x, y: +d.y[i].toPrecision(5) }));
        }
        const y = { field: "y", type: "quantitative", title: p.label, scale: p.log ? { type: "log" } : { zero: false } };
        const x = { field: "x", type: "quantitative", title: this.xLabel() };
        const layer: Record<string, unknown>[] = [{
          data: { values },
          mark: { type: "line", clip: true },
          encoding: {
            x, y,
            color: { field: "series", type: "nominal", title: null, scale: { domain: labels.map((l) => l.text), range: labels.map((l) => l.color) } },
            strokeDash: { field: "split", type: "nominal", title: null, scale: { domain: ["train", "val", ""], range: [[1, 0], [6, 3], [1, 0]] }, legend: null },
            tooltip: [{ field: "series", type: "nominal" }, { field: "x", type: "quantitative" }, { field: "y", type: "quantitative", format: ".4g" }],
          },
        }];
        if (p.best.length) {
          layer.push({
            data: { values: p.best.map((q) => ({ series: q.run, x: q.x, y: q.y, label: "best val loss" })) },
            mark: { type: "point", filled: true, size: 70, color: "#333" },
            encoding: { x, y, tooltip: [{ field: "label", type: "nominal" }, { field: "series", type: "nominal" }, { field: "x", type: "quantitative" }, { field: "y", type: "quantitative", format: ".4g" }] },
          });
        }
        return { width: o.width, height: o.panelHeight, layer };
      }),
    };
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary, "image/svg+xml": this.svg(), "application/vnd.vegalite.v5+json": this.vegaLite() };
  }
}

/**
 * Loss/metric curves: `lossPlot(history)` (fit's History as it is), several runs on one chart with
 * `lossPlot({ "p=0": h0, "p=0.5": h5 })`, `lossPlot([h0, h5], { labels: ["p=0", "p=0.5"] })` or
 * `lossPlot([{ name, history }])`, or plain curves `lossPlot([{ name, x?, y }])`.
 */
export function lossPlot(input: LossPlotInput, options: LossPlotOptions = {}): LossPlot {
  return new LossPlot(input, options);
}
