/**
 * Samplers over plain typed arrays. Element e of every sampler is a fixed function of fixed stream words of
 * the key (sampling domain), so filling [offset, offset + n) in pieces gives the same numbers as one fill.
 */
import type { Key } from "./keys.js";
import { mulhi, streamWords, wordToUniform } from "./philox.js";

function words(k: Key, start: number, n: number): Uint32Array {
  const w = new Uint32Array(n);
  streamWords(k.k0, k.k1, start, w);
  return w;
}

/** The largest float32 below v (v a positive or negative finite float32). */
function float32Below(v: number): number {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0] = v > 0 ? i[0]! - 1 : v < 0 ? i[0]! + 1 : -2147483647;
  return f[0]!;
}

/** Element e = low + (high − low)·u(word e), rounded to float32 and kept below `high`. */
export function fillUniform(k: Key, out: Float32Array, low: number, high: number, offset = 0): void {
  const w = words(k, offset, out.length);
  const top = Math.fround(high);
  const below = float32Below(top);
  for (let j = 0; j < out.length; j++) {
    const v = Math.fround(low + (high - low) * wordToUniform(w[j]!));
    out[j] = v < top ? v : below;
  }
}

/**
 * Box–Muller: elements 2i and 2i+1 are r·cos θ and r·sin θ with r = sqrt(−2 ln u1), θ = 2π·u2, where
 * u1 = (word 2i + 1)·2^-32 ∈ (0, 1] and u2 = u(word 2i+1). |z| ≤ sqrt(64 ln 2) ≈ 6.66.
 */
export function fillNormal(k: Key, out: Float32Array, mean: number, std: number, offset = 0): void {
  const n = out.length;
  if (n === 0) return;
  const first = offset - (offset % 2);
  const w = words(k, first, offset + n - first + ((offset + n) % 2));
  for (let e = first; e < offset + n; e += 2) {
    const a = e - first;
    const r = Math.sqrt(-2 * Math.log((w[a]! + 1) * 2.3283064365386963e-10));
    const t = 2 * Math.PI * wordToUniform(w[a + 1]!);
    if (e >= offset) out[e - offset] = mean + std * r * Math.cos(t);
    if (e + 1 < offset + n) out[e + 1 - offset] = mean + std * r * Math.sin(t);
  }
}

/** Element e is 1 when u(word e) < fround(p), else 0: the backend's dropout keep rule. */
export function fillBernoulli(k: Key, out: Float32Array, p: number, offset = 0): void {
  const w = words(k, offset, out.length);
  const keep = Math.fround(p);
  for (let j = 0; j < out.length; j++) out[j] = wordToUniform(w[j]!) < keep ? 1 : 0;
}

/**
 * floor(x · r / 2^64) for the 64-bit x = hi·2^32 + lo and 1 ≤ r ≤ 2^32 − 1, computed exactly. Each value in
 * [0, r) then has probability within r/2^64 (< 2^-32) of 1/r.
 */
export function scaleWord64(hi: number, lo: number, r: number): number {
  const h1 = mulhi(hi, r);
  const h0 = Math.imul(hi, r) >>> 0;
  const l1 = mulhi(lo, r);
  return h1 + (h0 + l1 >= 0x100000000 ? 1 : 0);
}

/** Element e = low + floor(x·(high − low)/2^64), x the 64-bit number of words 2e (high half) and 2e+1. */
export function fillRandint(k: Key, out: Float32Array, low: number, high: number, offset = 0): void {
  const w = words(k, 2 * offset, 2 * out.length);
  const r = high - low;
  for (let j = 0; j < out.length; j++) out[j] = low + scaleWord64(w[2 * j]!, w[2 * j + 1]!, r);
}

/**
 * Fisher–Yates: for t = 0 .. n−2, position i = n−1−t swaps with j = floor(x_t·(i+1)/2^64), x_t the
 * 64-bit number of words 2t and 2t+1.
 */
export function permutationArray(k: Key, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  if (n < 2) return p;
  const w = words(k, 0, 2 * (n - 1));
  for (let t = 0; t < n - 1; t++) {
    const i = n - 1 - t;
    const j = scaleWord64(w[2 * t]!, w[2 * t + 1]!, i + 1);
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}
