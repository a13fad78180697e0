/** A live training view: a progress bar (epoch, batch, ETA, loss) and a small loss curve, updated in place. */
import { Display, DISPLAY, type Displayable, type MimeBundle } from "./display.js";
import { minMaxDownsample, type Points } from "./downsample.js";
import { fmt } from "./scale.js";
import { el, escapeXml, pathData, text } from "./svg.js";

/** What a training loop reports. `epoch` counts from 1; `batch` is the number of batches done in that epoch
 * (omit it when the epoch is complete). Other numeric fields (valLoss, valAcc, …) are shown as they are. */
export interface ProgressState {
  epoch: number;
  batch?: number;
  loss?: number;
  [key: string]: number | undefined;
}

/** The kernel's display function: first call shows, later calls with `update: true` replace that output.
 * dropout-lab's kernel installs one as `globalThis.display`; any kernel with the same global works. */
export type DisplayFn = (obj: Displayable, options: { displayId: string; update?: boolean }) => void;

/**
 * The display function to use when none is passed: `globalThis.display` (dropout-lab's kernel, and any kernel
 * installing the same global), else Deno's `Deno.jupyter.display` (sent the bundle raw, with its display id).
 * Undefined outside a kernel.
 */
export function kernelDisplay(): DisplayFn | undefined {
  const g = globalThis as { display?: unknown; Deno?: { jupyter?: { display?: unknown } } };
  if (typeof g.display === "function") return g.display as DisplayFn;
  let deno: unknown;
  try {
    deno = g.Deno?.jupyter?.display; // Deno throws when Deno.jupyter is read outside a notebook
  } catch {
    return undefined;
  }
  if (typeof deno !== "function") return undefined;
  const show = deno as (bundle: MimeBundle, options: { raw: boolean; display_id: string; update: boolean }) => unknown;
  return (obj, { displayId, update }) => void show(obj[DISPLAY](), { raw: true, display_id: displayId, update: !!update });
}

/** `display` if given, else the kernel's (see `kernelDisplay`); a clear error when there is none. */
export function resolveDisplay(display: DisplayFn | undefined, who: string): DisplayFn {
  const d = display ?? kernelDisplay();
  if (typeof d !== "function") {
    throw new Error(`${who}: no display function: pass { display } (globalThis.display is installed by the dropout-lab kernel, Deno.jupyter.display by Deno's)`);
  }
  return d;
}

export interface LiveProgressOptions {
  /** Epochs, or epochs and batches per epoch (needed for a batch-level bar and ETA). */
  total: number | { epochs: number; batchesPerEpoch?: number };
  /** Where to show it (default: the kernel's, see `kernelDisplay`). */
  display?: DisplayFn;
  /** Least time between two displays, in ms (default 250: at most 4 per second). */
  minIntervalMs?: number;
  /** Clock in ms (default `performance.now`); tests inject a fake one. */
  now?: () => number;
  /** Display id (default a random UUID). */
  displayId?: string;
  title?: string;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

interface Snapshot {
  title?: string;
  state: ProgressState;
  epochs: number;
  batchesPerEpoch?: number;
  fraction: number;
  elapsed: number;
  done: boolean;
  /** `loss` as reported (per batch in `fit`), and `valLoss` at the end of each epoch. */
  train: Points;
  val: Points;
}

const TRAIN = "#0072B2", VAL = "#D55E00";

/** One rendering of the live view (what `display` receives). */
export class ProgressView extends Display {
  constructor(readonly snap: Snapshot) {
    super();
  }

  line(): string {
    const s = this.snap, st = s.state;
    const width = 24, filled = Math.round(s.fraction * width);
    const parts = [`epoch ${st.epoch}/${s.epochs}`, `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(100 * s.fraction)}%`];
    if (st.batch !== undefined) parts.push(`batch ${st.batch}${s.batchesPerEpoch ? "/" + s.batchesPerEpoch : ""}`);
    for (const [k, v] of Object.entries(st)) if (k !== "epoch" && k !== "batch" && v !== undefined) parts.push(`${k} ${fmt(v)}`);
    parts.push(s.done ? `done in ${duration(s.elapsed)}` : `ETA ${s.fraction > 0 ? duration((s.elapsed * (1 - s.fraction)) / s.fraction) : "?"}`);
    return (s.title ? s.title + ": " : "") + parts.join("  ");
  }

  /** A small SVG of the loss so far: training loss as a line, validation loss as dots joined by a dashed line. */
  curve(): string {
    const { train, val } = this.snap;
    if (train.y.length + val.y.length < 2) return "";
    const W = 360, H = 110, left = 8, right = 52, top = val.y.length ? 18 : 8, bottom = 8;
    const xs = [...train.x, ...val.x], ys = [...train.y, ...val.y];
    const x0 = Math.min(...xs), x1 = Math.max(...xs), lo = Math.min(...ys), hi = Math.max(...ys);
    const sx = (v: number) => left + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * (W - left - right);
    const sy = (v: number) => top + (hi > lo ? (hi - v) / (hi - lo) : 0.5) * (H - top - bottom);
    const parts = [
      el("rect", { width: "100%", height: "100%", fill: "#fff", stroke: "#ddd" }),
      el("path", { d: pathData(train.x.map(sx), train.y.map(sy)), fill: "none", stroke: TRAIN, "stroke-width": 1.5, class: "train" }),
    ];
    if (val.y.length) {
      parts.push(
        el("path", { d: pathData(val.x.map(sx), val.y.map(sy)), fill: "none", stroke: VAL, "stroke-width": 1.5, "stroke-dasharray": "5 3", class: "val" }),
        ...val.x.map((x, i) => el("circle", { cx: sx(x), cy: sy(val.y[i]), r: 2.5, fill: VAL })),
        text(left, 13, "train loss", { fill: TRAIN }), text(left + 70, 13, "val loss", { fill: VAL }),
      );
    }
    parts.push(text(W - right + 6, top + 8, fmt(hi, 3), { fill: "#444" }), text(W - right + 6, H - bottom, fmt(lo, 3), { fill: "#444" }));
    return el("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height: H, "font-family": "sans-serif", "font-size": 10 }, ...parts);
  }

  [DISPLAY](): MimeBundle {
    const pct = (100 * this.snap.fraction).toFixed(1);
    const html = `<div class="dropout-lab-progress" style="font-family:sans-serif;font-size:13px;color:#222;background:#fff;padding:6px;max-width:560px">` +
      `<div style="background:#e6e6e6;height:10px;border-radius:3px"><div style="background:${this.snap.done ? "#009E73" : "#0072B2"};width:${pct}%;height:10px;border-radius:3px"></div></div>` +
      `<div style="margin:4px 0;font-family:monospace">${escapeXml(this.line())}</div>${this.curve()}</div>`;
    return { "text/plain": this.line(), "text/html": html };
  }
}

export class LiveProgress {
  readonly displayId: string;
  /** How many times `display` has been called. */
  renders = 0;
  private readonly epochs: number;
  private readonly batchesPerEpoch?: number;
  private readonly display: DisplayFn;
  private readonly now: () => number;
  private readonly start: number;
  private last?: ProgressState;
  private lastShown = -Infinity;
  private closed = false;
  private readonly train: Points = { x: [], y: [] };
  private readonly val: Points = { x: [], y: [] };

  constructor(private readonly o: LiveProgressOptions) {
    const t = typeof o.total === "number" ? { epochs: o.total } : o.total;
    if (!(t.epochs > 0)) throw new Error("liveProgress: total epochs must be positive");
    this.display = resolveDisplay(o.display, "liveProgress");
    this.epochs = t.epochs;
    this.batchesPerEpoch = t.batchesPerEpoch;
    this.now = o.now ?? (() => performance.now());
    this.start = this.now();
    this.displayId = o.displayId ?? `progress-${globalThis.crypto.randomUUID()}`;
  }

  private fraction(s: ProgressState): number {
    const within = s.batch === undefined ? 1 : this.batchesPerEpoch ? s.batch / this.batchesPerEpoch : 0;
    return Math.min(1, Math.max(0, (s.epoch - 1 + within) / this.epochs));
  }

  /** Record progress; re-renders at most once per `minIntervalMs`. A finite `loss` adds a point to the
   * curve's training line, a finite `valLoss` one to its validation line (replacing one at the same x). The
   * x is the global batch count when `batchesPerEpoch` is known; else a loss's index, and for `valLoss` the
   * index of the latest loss. */
  update(state: ProgressState): void {
    if (this.closed) throw new Error("liveProgress: update after close");
    this.last = { ...state };
    const bpe = this.batchesPerEpoch;
    const at = (fallback: number) => (bpe ? (state.epoch - 1) * bpe + (state.batch ?? bpe) : fallback);
    if (state.loss !== undefined && Number.isFinite(state.loss)) {
      this.train.x.push(at(this.train.x.length));
      this.train.y.push(state.loss);
    }
    if (state.valLoss !== undefined && Number.isFinite(state.valLoss)) {
      const x = at(Math.max(0, this.train.x.length - 1));
      if (this.val.x[this.val.x.length - 1] === x) this.val.y[this.val.y.length - 1] = state.valLoss;
      else { this.val.x.push(x); this.val.y.push(state.valLoss); }
    }
    if (this.now() - this.lastShown >= (this.o.minIntervalMs ?? 250)) this.show(false);
  }

  /** Show the final state (always rendered, with the same display id). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.last) this.show(true);
  }

  private show(done: boolean): void {
    const s = this.last!;
    const view = new ProgressView({
      title: this.o.title, state: s, epochs: this.epochs, batchesPerEpoch: this.batchesPerEpoch,
      fraction: done ? 1 : this.fraction(s), elapsed: this.now() - this.start, done,
      train: minMaxDownsample({ x: this.train.x.slice(), y: this.train.y.slice() }, 150),
      val: minMaxDownsample({ x: this.val.x.slice(), y: this.val.y.slice() }, 150),
    });
    this.display(view, this.renders === 0 ? { displayId: this.displayId } : { displayId: this.displayId, update: true });
    this.renders++;
    this.lastShown = this.now();
  }
}

/** A live progress display for training loops: `update(state)` as training goes, `close()` at the end. Shown
 * through `options.display`, else the kernel's display function (see `kernelDisplay`). */
export function liveProgress(options: LiveProgressOptions): LiveProgress {
  return new LiveProgress(options);
}
