/** An indexed-colour canvas: rectangles, nearest-neighbour cell blocks and bitmap-font text, then PNG. */
import type { RGB } from "./colormap.js";
import { ADVANCE, GLYPH_W, glyph, textWidth } from "./font.js";
import { encodeIndexedPng } from "./png.js";

export class Raster {
  readonly pixels: Uint8Array;
  readonly palette: RGB[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly width: number, readonly height: number, background: RGB = [255, 255, 255]) {
    if (width * height > 40_000_000) throw new Error(`image too large: ${width}×${height}`);
    this.pixels = new Uint8Array(width * height);
    this.color(background); // index 0 is the background
  }

  /** Palette index of a colour, adding it when new. */
  color(c: RGB): number {
    const key = c.join(",");
    let i = this.index.get(key);
    if (i === undefined) {
      if (this.palette.length === 256) throw new Error("image palette is full (256 colours)");
      i = this.palette.length;
      this.palette.push(c);
      this.index.set(key, i);
    }
    return i;
  }

  fill(x: number, y: number, w: number, h: number, idx: number): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) this.pixels.fill(idx, yy * this.width + x0, yy * this.width + Math.max(x0, x1));
  }

  /** A 1-px rectangle outline. */
  frame(x: number, y: number, w: number, h: number, idx: number): void {
    this.fill(x, y, w, 1, idx);
    this.fill(x, y + h - 1, w, 1, idx);
    this.fill(x, y, 1, h, idx);
    this.fill(x + w - 1, y, 1, h, idx);
  }

  /**
   * Text with its top-left corner at (x, y); `vertical` draws it rotated a quarter turn anticlockwise,
   * reading bottom to top, with (x, y) the top-left of its bounding box.
   */
  text(x: number, y: number, s: string, idx: number, scale = 2, vertical = false): void {
    const chars = [...s];
    const len = textWidth(s, scale);
    chars.forEach((ch, k) => {
      const rows = glyph(ch);
      for (let r = 0; r < rows.length; r++) {
        for (let c = 0; c < GLYPH_W; c++) {
          if (!((rows[r] >> (GLYPH_W - 1 - c)) & 1)) continue;
          const u = (k * ADVANCE + c) * scale; // along the text
          const v = r * scale; // across the text
          if (vertical) this.fill(x + v, y + len - u - scale, scale, scale, idx);
          else this.fill(x + u, y + v, scale, scale, idx);
        }
      }
    });
  }

  png(): Uint8Array {
    return encodeIndexedPng(this.width, this.height, this.pixels, this.palette);
  }
}
