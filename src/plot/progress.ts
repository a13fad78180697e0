/** A live training view: a progress bar (epoch, batch, ETA, loss) and a small loss curve, updated in place. */
import { Display, DISPLAY, type Displayable, type MimeBundle } from "./display.js";
import { minMaxDownsample } from "./downsample.js";
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
 * In dropout-lab's kernel (and any that installs the same global), pass `globalThis.display`. */
export type DisplayFn = (obj: Displayable, options: { displayId: string; update?: boolean }) => void;

export interface LiveProgressOptions {
  /** Epochs, or epochs and batches per epoch (needed for a batch-level bar and ETA). */
  total: number | { epochs: number; batchesPerEpoch?: number };
  display: DisplayFn;
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
  curve: { x: number[]; y: number[] };
}

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

  /** A small SVG of the loss so far. */
  curve(): string {
    const { x, y } = this.snap.curve;
    const W = 320, H = 90, pad = 8;
    if (y.length < 2) return "";
    const lo = Math.min(...y), hi = Math.max(...y);
    const sx = (v: number) => pad + ((v - x[0]) / Math.max(1e-12, x[x.length - 1] - x[0])) * (W - 2 * pad - 40);
    const sy = (v: number) => pad + (hi > lo ? (hi - v) / (hi - lo) : 0.5) * (H - 2 * pad);
    return el("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height: H, "font-family": "sans-serif", "font-size": 10 },
      el("rect", { width: "100%", height: "100%", fill: "#fff", stroke: "#ddd" }),
      el("path", { d: pathData(x.map(sx), y.map(sy)), fill: "none", stroke: "#0072B2", "stroke-width": 1.5 }),
      text(W - 44, pad + 8, fmt(hi, 3), { fill: "#444" }),
      text(W - 44, H - pad, fmt(lo, 3), { fill: "#444" }));
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
  private readonly now: () => number;
  private readonly start: number;
  private last?: ProgressState;
  private lastShown = -Infinity;
  private closed = false;
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];

  constructor(private readonly o: LiveProgressOptions) {
    const t = typeof o.total === "number" ? { epochs: o.total } : o.total;
    if (!(t.epochs > 0)) throw new Error("liveProgress: total epochs must be positive");
    if (typeof o.display !== "function") throw new Error("liveProgress: pass a display function (globalThis.display in the dropout-lab kernel)");
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

  /** Record progress; re-renders at most once per `minIntervalMs`. */
  update(state: ProgressState): void {
    if (this.closed) throw new Error("liveProgress: update after close");
    this.last = { ...state };
    if (state.loss !== undefined && Number.isFinite(state.loss)) {
      this.xs.push(this.batchesPerEpoch && state.batch !== undefined ? (state.epoch - 1) * this.batchesPerEpoch + state.batch : this.xs.length);
      this.ys.push(state.loss);
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
      curve: minMaxDownsample({ x: this.xs.slice(), y: this.ys.slice() }, 150),
    });
    this.o.display(view, this.renders === 0 ? { displayId: this.displayId } : { displayId: this.displayId, update: true });
    this.renders++;
    this.lastShown = this.now();
  }
}

/** A live progress display for training loops; pass `display: globalThis.display` inside the kernel. */
export function liveProgress(options: LiveProgressOptions): LiveProgress {
  return new LiveProgress(options);
}
