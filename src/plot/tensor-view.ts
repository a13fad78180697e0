/** A tensor at a glance: shape, dtype, summary statistics, a few values, and a heatmap when 2-D. */
import { base64, Display, DISPLAY, type MimeBundle } from "./display.js";
import { renderHeatmap } from "./heatmap.js";
import { stats, toDense, type ArrayInput, type Dense } from "./input.js";
import { fmt } from "./scale.js";

function preview(d: Dense, edge = 3): string {
  const fmtv = (v: number) => fmt(v, 4);
  const rec = (dim: number, offset: number, indent: string): string => {
    const n = d.shape[dim];
    const stride = d.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = n > 2 * edge ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)] : [...Array(n).keys()];
    if (dim === d.shape.length - 1) return "[" + idx.map((i) => (i < 0 ? "…" : fmtv(d.data[offset + i]))).join(", ") + "]";
    return "[" + idx.map((i) => (i < 0 ? "…" : rec(dim + 1, offset + i * stride, indent + " "))).join(",\n" + indent + " ") + "]";
  };
  return d.shape.length === 0 ? fmtv(d.data[0]) : rec(0, 0, "");
}

export class TensorView extends Display {
  readonly dense: Dense;
  readonly dtype: string;
  private cached?: Uint8Array;

  constructor(t: ArrayInput, private readonly title?: string) {
    super();
    this.dense = toDense(t, "tensor");
    this.dtype = ("dtype" in t && typeof t.dtype === "string" && t.dtype) ||
      ("data" in t && t.data instanceof Float32Array ? "float32" : "float64");
  }

  text(): string {
    const s = stats(this.dense.data);
    const head = `${this.title ? this.title + ": " : ""}Tensor ${this.dtype} [${this.dense.shape.join(", ")}] (${s.count} values)`;
    const sum = s.count ? `min ${fmt(s.min)}, max ${fmt(s.max)}, mean ${fmt(s.mean)}, std ${fmt(s.std)}${s.nonFinite ? `, ${s.nonFinite} non-finite` : ""}` : "empty";
    return `${head}\n${sum}\n${s.count ? preview(this.dense) : ""}`.trimEnd();
  }

  /** A heatmap of a 2-D tensor (diverging around 0 when values have both signs, viridis otherwise). */
  png(): Uint8Array {
    if (this.cached) return this.cached;
    const [R, C] = this.dense.shape;
    if (this.dense.shape.length !== 2 || !R || !C) throw new Error(`tensorView: a heatmap needs a non-empty 2-D tensor, got [${this.dense.shape.join(", ")}]`);
    const s = stats(this.dense.data);
    const signed = s.min < 0 && s.max > 0;
    const m = Math.max(Math.abs(s.min), Math.abs(s.max));
    const img = renderHeatmap([{ rows: R, cols: C, at: (r, c) => this.dense.data[r * C + c] }], {
      title: this.title, xLabel: "column", yLabel: "row", gridCols: 1, ticks: true, square: false,
      maxWidth: 640, maxHeight: 400, maxCell: 24,
      colour: signed ? { kind: "continuous", map: "diverging", lo: -m, hi: m } : { kind: "continuous", map: "viridis", lo: s.min, hi: s.max },
    });
    return (this.cached = img.img.png());
  }

  [DISPLAY](): MimeBundle {
    const b: MimeBundle = { "text/plain": this.text() };
    if (this.dense.shape.length === 2 && this.dense.shape[0] && this.dense.shape[1]) b["image/png"] = base64(this.png());
    return b;
  }
}

/** Show a tensor (anything with `shape` and row-major `data`, optional `dtype`, or a nested array). */
export function tensorView(t: ArrayInput, title?: string): TensorView {
  return new TensorView(t, title);
}
