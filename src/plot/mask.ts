/** Dropout mask heatmaps: dense (batch × units), conv channel masks (grid), RNN h/c, DropConnect weights. */
import type { RGB } from "./colormap.js";
import { base64, Display, DISPLAY, type MimeBundle } from "./display.js";
import { renderHeatmap, type ColourSpec, type Tile } from "./heatmap.js";
import { expectRank, stats, toDense, type ArrayInput, type Dense } from "./input.js";
import { fmt } from "./scale.js";

export type MaskKind = "dense" | "conv" | "rnn" | "weights";

export interface MaskHeatmapOptions {
  title?: string;
  /** What the mask belongs to; sets axis labels. Default: "conv" for 3-/4-D, "rnn" for `{ h, c }`, else "dense". */
  kind?: MaskKind;
  xLabel?: string;
  yLabel?: string;
  /** Force a continuous colour scale (true) or kept/dropped colours (false). Default: kept/dropped when the
   * mask holds 0 and at most one other value (inverted-dropout scaling included), continuous otherwise. */
  graded?: boolean;
  /** Conv masks [N, C, H, W]: samples and channels shown at most (default 8 and 16). */
  maxSamples?: number;
  maxChannels?: number;
  /** 2-D and RNN masks: rows and columns drawn at most (default 512 and 1024); the text summary always
   * covers the whole mask. */
  maxRows?: number;
  maxCols?: number;
  /** RNN masks given as [T, B, U]: the batch element shown (default 0). */
  batchIndex?: number;
  /** Pixel budget of the image area (default 900 × 420). */
  maxWidth?: number;
  maxHeight?: number;
  /** Names of the non-zero and zero entries in the legend and the text summary (default "kept" and
   * "dropped"; a zoneout mask, where 1 means the unit held its previous value, might say "held" and "updated"). */
  labels?: { kept: string; dropped: string };
}

export const KEPT: RGB = [253, 231, 37]; // viridis at 1
export const DROPPED: RGB = [68, 1, 84]; // viridis at 0
const LABELS = { kept: "kept", dropped: "dropped" };

export type RnnMasks = { h: ArrayInput; c: ArrayInput };

function isRnn(x: unknown): x is RnnMasks {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "h" in x && "c" in x;
}

function matrixTile(d: Dense, o: MaskHeatmapOptions, caption?: string): Tile {
  const cols = d.shape[1];
  return { rows: Math.min(d.shape[0], o.maxRows ?? 512), cols: Math.min(cols, o.maxCols ?? 1024), at: (r, c) => d.data[r * cols + c], caption };
}

/** [T, U] or the `batchIndex` slice of [T, B, U]. */
function timeByUnits(input: ArrayInput, batchIndex: number, what: string): Dense {
  const d = toDense(input, what);
  expectRank(d, [2, 3], what);
  if (d.shape.length === 2) return d;
  const [T, B, U] = d.shape;
  if (!(batchIndex >= 0 && batchIndex < B)) throw new Error(`${what}: batchIndex ${batchIndex} outside 0..${B - 1}`);
  const out = new Float64Array(T * U);
  for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) out[t * U + u] = d.data[(t * B + batchIndex) * U + u];
  return { shape: [T, U], data: out };
}

function isBinary(data: ArrayLike<number>): boolean {
  let other: number | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    if (other === undefined) other = v;
    else if (v !== other) return false;
  }
  return true;
}

export class MaskHeatmap extends Display {
  /** Shape of the mask(s) as given. */
  readonly shape: number[];
  readonly kind: MaskKind;
  /** Fraction of non-zero (kept) entries. */
  readonly keptFraction: number;
  readonly graded: boolean;
  private readonly tiles: Tile[];
  private readonly summary: string;
  private cached?: Uint8Array;
  private layout?: { origins: [number, number][]; cell: [number, number] };
  /** Conv masks: a grid of channel images rather than one or two matrices. */
  private readonly grid: boolean;

  constructor(mask: ArrayInput | RnnMasks, private readonly options: MaskHeatmapOptions = {}) {
    super();
    const o = options;
    let values: ArrayLike<number>[];
    let note = "";
    if (isRnn(mask)) {
      const h = timeByUnits(mask.h, o.batchIndex ?? 0, "mask.h");
      const c = timeByUnits(mask.c, o.batchIndex ?? 0, "mask.c");
      if (h.shape.join() !== c.shape.join()) throw new Error(`mask: h [${h.shape.join(", ")}] and c [${c.shape.join(", ")}] differ in shape`);
      this.kind = o.kind ?? "rnn";
      this.grid = false;
      this.shape = h.shape;
      this.tiles = [matrixTile(h, o, "h"), matrixTile(c, o, "c")];
      values = [h.data, c.data];
    } else {
      const d = toDense(mask, "mask");
      expectRank(d, [2, 3, 4], "mask");
      this.shape = d.shape;
      if (d.shape.length === 2) {
        this.kind = o.kind ?? "dense";
        this.grid = false;
        this.tiles = [matrixTile(d, o)];
      } else {
        this.kind = o.kind ?? "conv";
        this.grid = true;
        const [N, C, H, W] = d.shape.length === 4 ? d.shape : [1, ...d.shape];
        const n = Math.min(N, o.maxSamples ?? 8), ch = Math.min(C, o.maxChannels ?? 16);
        if (n < N || ch < C) note = ` (showing samples 0..${n - 1} of ${N}, channels 0..${ch - 1} of ${C})`;
        this.tiles = [];
        for (let s = 0; s < n; s++) {
          for (let k = 0; k < ch; k++) {
            const base = (s * C + k) * H * W;
            this.tiles.push({ rows: H, cols: W, at: (r, c) => d.data[base + r * W + c] });
          }
        }
      }
      values = [d.data];
    }
    const t0 = this.tiles[0];
    if (!this.grid && (t0.rows < this.shape[0] || t0.cols < this.shape[1])) {
      note = ` (showing rows 0..${t0.rows - 1} of ${this.shape[0]}, columns 0..${t0.cols - 1} of ${this.shape[1]})`;
    }
    const st = values.map(stats);
    const count = st.reduce((a, s) => a + s.count, 0);
    const nonzero = st.reduce((a, s) => a + s.nonzero, 0);
    this.keptFraction = count ? nonzero / count : NaN;
    this.graded = o.graded ?? !values.every(isBinary);
    const shapeText = isRnn(mask) ? `h and c [${this.shape.join(", ")}]` : `[${this.shape.join(", ")}]`;
    const { kept, dropped } = o.labels ?? LABELS;
    let text = `${this.kind} mask ${shapeText}: ${kept} ${(100 * this.keptFraction).toFixed(1)}% (${nonzero} of ${count}), ${dropped} ${(100 * (1 - this.keptFraction)).toFixed(1)}%`;
    if (this.graded) {
      const min = Math.min(...st.map((s) => s.min)), max = Math.max(...st.map((s) => s.max));
      const mean = st.reduce((a, s) => a + s.mean * s.count, 0) / count;
      text += `; graded values min ${fmt(min)}, mean ${fmt(mean)}, max ${fmt(max)}`;
    }
    this.summary = (o.title ? `${o.title}: ` : "") + text + note;
  }

  private colour(): ColourSpec {
    if (!this.graded) {
      const { kept, dropped } = this.options.labels ?? LABELS;
      return { kind: "binary", kept: KEPT, dropped: DROPPED, keptLabel: kept, droppedLabel: dropped };
    }
    let lo = Infinity, hi = -Infinity;
    for (const t of this.tiles) {
      for (let r = 0; r < t.rows; r++) for (let c = 0; c < t.cols; c++) {
        const v = t.at(r, c);
        if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    }
    return { kind: "continuous", map: "viridis", lo: Number.isFinite(lo) ? lo : 0, hi: Number.isFinite(hi) ? hi : 1 };
  }

  /** The PNG bytes (for tslab.display.png or writing to a file). */
  png(): Uint8Array {
    if (this.cached) return this.cached;
    const o = this.options;
    const labels: Record<MaskKind, [string, string]> = {
      dense: ["units", "batch"], conv: ["channels", "samples"], rnn: ["units", "time step"], weights: ["inputs", "outputs"],
    };
    const [x, y] = labels[this.kind];
    const conv = this.grid;
    const gridCols = conv ? Math.min(this.shape.length === 4 ? this.shape[1] : this.shape[0], o.maxChannels ?? 16) : this.tiles.length;
    const img = renderHeatmap(this.tiles, {
      title: o.title,
      xLabel: o.xLabel ?? x,
      yLabel: o.yLabel ?? y,
      gridCols,
      ticks: !conv,
      square: conv,
      maxWidth: o.maxWidth ?? 900,
      maxHeight: o.maxHeight ?? 420,
      maxCell: conv ? 8 : 24,
      colour: this.colour(),
    });
    this.layout = { origins: img.origins, cell: img.cell };
    return (this.cached = img.img.png());
  }

  /** Pixel centre, in the PNG, of mask entry (row, col) of a tile (tile 1 is `c` for RNN masks; conv tiles
   * run sample-major, channel-minor). */
  cellCenter(row: number, col: number, tile = 0): [number, number] {
    this.png();
    const { origins, cell } = this.layout!;
    const t = this.tiles[tile];
    if (!t || row < 0 || col < 0 || row >= t.rows || col >= t.cols) throw new Error(`cellCenter: no cell (${row}, ${col}) in tile ${tile}`);
    const [ox, oy] = origins[tile];
    return [ox + col * cell[0] + Math.floor(cell[0] / 2), oy + row * cell[1] + Math.floor(cell[1] / 2)];
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary, "image/png": base64(this.png()) };
  }
}

/**
 * A heatmap of a dropout mask: 2-D [batch, units] (dense) or [out, in] (DropConnect, `kind: "weights"`),
 * 3-/4-D [N, C, H, W] as a grid of channel images (Dropout2d, DropBlock), or `{ h, c }` RNN masks over
 * time × units side by side. Kept entries are yellow, dropped purple; graded masks use viridis.
 */
export function maskHeatmap(mask: ArrayInput | RnnMasks, options: MaskHeatmapOptions = {}): MaskHeatmap {
  return new MaskHeatmap(mask, options);
}
