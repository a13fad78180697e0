/** Weights as a grid of small images (first-layer filters, Srivastava et al. Fig. 7). */
import type { ColormapName } from "./colormap.js";
import { base64, Display, DISPLAY, type MimeBundle } from "./display.js";
import { renderHeatmap, type Tile } from "./heatmap.js";
import { expectRank, stats, toDense, type ArrayInput } from "./input.js";
import { fmt } from "./scale.js";

export interface ImageGridOptions {
  title?: string;
  /** Tile height × width for 2-D weights (default: square, e.g. 784 inputs → 28 × 28). */
  tileShape?: [number, number];
  /** 2-D weights: one tile per row ([units, inputs], the default) or per column ([inputs, units]). */
  tilesAlong?: "rows" | "cols";
  /** Tiles per grid row (default: about square; C for [N, C, H, W]). */
  columns?: number;
  /** Most tiles drawn (default 100). */
  maxTiles?: number;
  /** Colour range per tile (default) or shared by all tiles. */
  normalize?: "tile" | "global";
  /** Default "diverging" (centred on 0); "viridis" and "grey" map min..max. */
  colormap?: ColormapName;
  /** Largest tile pixel size in the image (default 4 px per weight). */
  maxCell?: number;
}

export class ImageGrid extends Display {
  readonly tiles: Tile[];
  readonly shape: number[];
  private readonly summary: string;
  private cached?: Uint8Array;

  constructor(weights: ArrayInput, private readonly o: ImageGridOptions = {}) {
    super();
    const d = toDense(weights, "weights");
    expectRank(d, [2, 3, 4], "weights");
    this.shape = d.shape;
    let n: number, h: number, w: number, get: (t: number, i: number) => number;
    if (d.shape.length === 2) {
      const [R, C] = d.shape;
      const byCols = o.tilesAlong === "cols";
      n = byCols ? C : R;
      const len = byCols ? R : C;
      [h, w] = o.tileShape ?? [Math.round(Math.sqrt(len)), Math.round(Math.sqrt(len))];
      if (h * w !== len) throw new Error(`imageGrid: ${len} values per tile do not make a ${h}×${w} tile; pass tileShape`);
      get = byCols ? (t, i) => d.data[i * C + t] : (t, i) => d.data[t * C + i];
    } else {
      const [N, Ch, H, W] = d.shape.length === 4 ? d.shape : [d.shape[0], 1, d.shape[1], d.shape[2]];
      n = N * Ch; h = H; w = W;
      get = (t, i) => d.data[t * H * W + i];
    }
    const shown = Math.min(n, o.maxTiles ?? 100);
    const global = stats(d.data);
    const signed = (o.colormap ?? "diverging") === "diverging";
    this.tiles = [];
    for (let t = 0; t < shown; t++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < h * w; i++) { const v = get(t, i); if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      const range = o.normalize === "global" ? {} : signed ? { lo: -m, hi: m } : { lo, hi };
      this.tiles.push({ rows: h, cols: w, at: (r, c) => get(t, r * w + c), ...range });
    }
    this.summary = `${o.title ? o.title + ": " : ""}image grid of ${shown}${shown < n ? ` of ${n}` : ""} tiles, ${h}×${w} each, from [${d.shape.join(", ")}]; ` +
      `${o.normalize === "global" ? "one colour range" : "colour range per tile"} (${o.colormap ?? "diverging"}); values min ${fmt(global.min)}, mean ${fmt(global.mean)}, max ${fmt(global.max)}`;
  }

  png(): Uint8Array {
    if (this.cached) return this.cached;
    const o = this.o;
    const s = stats(this.tiles.flatMap((t) => Array.from({ length: t.rows * t.cols }, (_, i) => t.at(Math.floor(i / t.cols), i % t.cols))));
    const map = o.colormap ?? "diverging";
    const m = Math.max(Math.abs(s.min), Math.abs(s.max));
    const perTile = o.normalize !== "global";
    const channels = this.shape.length === 4 && this.shape[1] > 1 ? this.shape[1] : 0;
    const img = renderHeatmap(this.tiles, {
      title: o.title,
      gridCols: o.columns ?? (channels || Math.ceil(Math.sqrt(this.tiles.length))),
      ticks: false,
      square: true,
      maxWidth: 900,
      maxHeight: 900,
      maxCell: o.maxCell ?? 4,
      colour: {
        kind: "continuous", map,
        lo: map === "diverging" ? -m : s.min, hi: map === "diverging" ? m : s.max,
        ...(perTile ? (map === "diverging" ? { loLabel: "-max", hiLabel: "+max" } : { loLabel: "min", hiLabel: "max" }) : {}),
      },
    });
    return (this.cached = img.img.png());
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.summary, "image/png": base64(this.png()) };
  }
}

/** Tiles of weights: [units, inputs] rows as h×w images, [N, H, W], or [N, C, H, W] conv filters (one tile per channel). */
export function imageGrid(weights: ArrayInput, options: ImageGridOptions = {}): ImageGrid {
  return new ImageGrid(weights, options);
}
