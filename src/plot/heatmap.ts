/** Lays out one or more matrices as nearest-neighbour upscaled tiles, with labels and a colour bar. */
import { colormapTable, type ColormapName, type RGB } from "./colormap.js";
import { GLYPH_H, textWidth } from "./font.js";
import { Raster } from "./raster.js";
import { fmt, intTicks } from "./scale.js";

/** One matrix to draw. `lo`/`hi` override the shared colour domain (per-tile normalisation). */
export interface Tile {
  rows: number;
  cols: number;
  at(r: number, c: number): number;
  caption?: string;
  lo?: number;
  hi?: number;
}

export type ColourSpec =
  | { kind: "binary"; kept: RGB; dropped: RGB; keptLabel: string; droppedLabel: string }
  | { kind: "continuous"; map: ColormapName; lo: number; hi: number; loLabel?: string; hiLabel?: string };

export interface HeatmapLayout {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Tiles per row of the grid. */
  gridCols: number;
  /** Draw row/column index ticks on each tile. */
  ticks: boolean;
  /** Cells must be square (images, filters). */
  square: boolean;
  /** Pixel budget for the tile area. */
  maxWidth: number;
  maxHeight: number;
  /** Largest upscaling factor. */
  maxCell: number;
  colour: ColourSpec;
}

const TEXT: RGB = [34, 34, 34];
const AXIS: RGB = [120, 120, 120];
const MISSING: RGB = [204, 204, 204];
const LEVELS = 64;
const S = 2; // font scale
const LINE = GLYPH_H * S;

/** Cell size for `rows × cols` tiles arranged in a `gridRows × gridCols` grid within the budget. */
export function cellSize(l: HeatmapLayout, rows: number, cols: number, gridRows: number, gap: number): [number, number] {
  const fit = (budget: number, n: number, k: number) => Math.floor((budget - gap * (k - 1)) / (n * k));
  let cw = Math.max(1, Math.min(l.maxCell, fit(l.maxWidth, cols, l.gridCols)));
  let ch = Math.max(1, Math.min(l.maxCell, fit(l.maxHeight, rows, gridRows)));
  if (l.square) cw = ch = Math.min(cw, ch);
  else { cw = Math.min(cw, ch * 4); ch = Math.min(ch, cw * 4); }
  return [cw, ch];
}

/** The drawn image and where each tile's cell (0, 0) starts, so callers can locate cells. */
export interface HeatmapImage {
  img: Raster;
  origins: [number, number][];
  cell: [number, number];
}

export function renderHeatmap(tiles: Tile[], l: HeatmapLayout): HeatmapImage {
  if (!tiles.length) throw new Error("nothing to draw");
  const rows = Math.max(...tiles.map((t) => t.rows));
  const cols = Math.max(...tiles.map((t) => t.cols));
  const gridCols = Math.min(l.gridCols, tiles.length);
  const gridRows = Math.ceil(tiles.length / gridCols);
  const captions = tiles.some((t) => t.caption);
  const gap = l.ticks ? 4 * S * 6 : captions ? 6 : 2;
  const [cw, ch] = cellSize({ ...l, gridCols }, rows, cols, gridRows, gap);
  const tileW = cols * cw, tileH = rows * ch;
  const yTicks = l.ticks ? intTicks(0, rows - 1, Math.max(2, Math.floor(tileH / 40))).ticks.filter((t) => t < rows) : [];
  const xTicks = l.ticks ? intTicks(0, cols - 1, Math.max(2, Math.floor(tileW / 60))).ticks.filter((t) => t < cols) : [];
  const tickW = l.ticks ? Math.max(...yTicks.map((t) => textWidth(String(t), S))) + 6 : 0;
  const tickH = l.ticks ? LINE + 6 : 0;
  const capH = captions ? LINE + 6 : 0;
  const cellW = tileW + tickW, cellH = capH + tileH + tickH;

  const pad = 10;
  const left = pad + (l.yLabel ? LINE + 8 : 0);
  const top = pad + (l.title ? LINE + 10 : 0);
  const gridW = gridCols * cellW + (gridCols - 1) * gap;
  const gridH = gridRows * cellH + (gridRows - 1) * gap;
  const barH = Math.max(80, Math.min(gridH, 200));
  const c = l.colour;
  const legendW = c.kind === "continuous"
    ? 14 + 6 + Math.max(textWidth(c.hiLabel ?? fmt(c.hi, 3), S), textWidth(c.loLabel ?? fmt(c.lo, 3), S))
    : 14 + 6 + Math.max(textWidth(c.keptLabel, S), textWidth(c.droppedLabel, S));
  const width = Math.max(left + gridW + 20 + legendW + pad, pad * 2 + (l.title ? textWidth(l.title, S) : 0));
  const height = top + Math.max(gridH, c.kind === "continuous" ? barH : 2 * LINE + 20) + (l.xLabel ? LINE + 8 : 0) + pad;

  const img = new Raster(width, height);
  const ink = img.color(TEXT), axis = img.color(AXIS), missing = img.color(MISSING);
  let lut: number[] = [];
  let kept = 0, dropped = 0;
  if (c.kind === "continuous") lut = colormapTable(c.map, LEVELS).map((rgb) => img.color(rgb));
  else { kept = img.color(c.kept); dropped = img.color(c.dropped); }

  if (l.title) img.text(pad, pad, l.title, ink, S);
  if (l.yLabel) img.text(pad, top + Math.max(0, (gridH - textWidth(l.yLabel, S)) / 2), l.yLabel, ink, S, true);
  if (l.xLabel) img.text(left + Math.max(0, (gridW - textWidth(l.xLabel, S)) / 2), top + gridH + 8, l.xLabel, ink, S);

  const origins: [number, number][] = [];
  tiles.forEach((t, i) => {
    const ox = left + (i % gridCols) * (cellW + gap) + tickW;
    const oy = top + Math.floor(i / gridCols) * (cellH + gap) + capH;
    origins.push([ox, oy]);
    if (t.caption) img.text(ox, oy - capH, t.caption, ink, S);
    const lo = t.lo ?? (c.kind === "continuous" ? c.lo : 0);
    const hi = t.hi ?? (c.kind === "continuous" ? c.hi : 1);
    const k = hi > lo ? (LEVELS - 1) / (hi - lo) : 0;
    for (let r = 0; r < t.rows; r++) {
      for (let q = 0; q < t.cols; q++) {
        const v = t.at(r, q);
        let idx: number;
        if (!Number.isFinite(v)) idx = missing;
        else if (c.kind === "binary") idx = v !== 0 ? kept : dropped;
        else idx = lut[Math.max(0, Math.min(LEVELS - 1, Math.round(hi > lo ? (v - lo) * k : (LEVELS - 1) / 2)))];
        img.fill(ox + q * cw, oy + r * ch, cw, ch, idx);
      }
    }
    if (l.ticks) {
      for (const y of yTicks) {
        const py = oy + y * ch + ch / 2;
        img.fill(ox - 4, py, 3, 1, axis);
        img.text(ox - 6 - textWidth(String(y), S), py - LINE / 2, String(y), ink, S);
      }
      for (const x of xTicks) {
        const px = ox + x * cw + cw / 2;
        img.fill(px, oy + tileH + 1, 1, 3, axis);
        img.text(Math.min(px - textWidth(String(x), S) / 2, ox + tileW - textWidth(String(x), S)), oy + tileH + 6, String(x), ink, S);
      }
    }
  });

  const bx = left + gridW + 20;
  if (c.kind === "continuous") {
    for (let y = 0; y < barH; y++) img.fill(bx, top + y, 14, 1, lut[Math.round(((barH - 1 - y) / (barH - 1)) * (LEVELS - 1))]);
    img.frame(bx, top, 14, barH, axis);
    img.text(bx + 20, top, c.hiLabel ?? fmt(c.hi, 3), ink, S);
    img.text(bx + 20, top + barH - LINE, c.loLabel ?? fmt(c.lo, 3), ink, S);
  } else {
    img.fill(bx, top, 14, LINE, kept);
    img.frame(bx, top, 14, LINE, axis);
    img.text(bx + 20, top, c.keptLabel, ink, S);
    img.fill(bx, top + LINE + 8, 14, LINE, dropped);
    img.frame(bx, top + LINE + 8, 14, LINE, axis);
    img.text(bx + 20, top + LINE + 8, c.droppedLabel, ink, S);
  }
  return { img, origins, cell: [cw, ch] };
}
