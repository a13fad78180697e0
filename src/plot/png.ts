/** A minimal PNG encoder for indexed-colour images: signature, IHDR, PLTE, IDAT (node:zlib), IEND. */
import { deflateSync } from "node:zlib";
import type { RGB } from "./colormap.js";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309 / ITU-T V.42, the one PNG uses). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode `width × height` palette indices (row-major) as an indexed PNG. The bit depth is the
 * smallest of 1, 2, 4, 8 that holds the palette; rows use filter 0 (the PNG spec's advice for palettes).
 */
export function encodeIndexedPng(width: number, height: number, pixels: Uint8Array, palette: RGB[]): Uint8Array {
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new Error(`PNG: bad size ${width}×${height}`);
  }
  if (pixels.length !== width * height) throw new Error("PNG: pixel count does not match the size");
  if (palette.length < 1 || palette.length > 256) throw new Error("PNG: palette needs 1 to 256 colours");
  const depth = palette.length <= 2 ? 1 : palette.length <= 4 ? 2 : palette.length <= 16 ? 4 : 8;
  const perByte = 8 / depth;
  const stride = Math.ceil(width / perByte);
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1; // byte 0 of each row: filter type 0
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x];
      raw[row + Math.floor(x / perByte)] |= v << (8 - depth * (1 + (x % perByte)));
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([depth, 3, 0, 0, 0], 8); // bit depth, colour type 3 (indexed), deflate, filter set 0, no interlace
  const plte = new Uint8Array(palette.length * 3);
  palette.forEach((c, i) => plte.set(c, i * 3));
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("PLTE", plte),
    chunk("IDAT", new Uint8Array(deflateSync(raw, { level: 9 }))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
