/**
 * Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"): a counter-based
 * generator. Every random number is a pure function of (key, position), so a stream can be cut into pieces
 * and computed by any number of workers in any order with the same result.
 *
 * Stream layout shared by every sampler, in JavaScript and in the WebAssembly kernels:
 * word i of the stream of key (k0, k1) is word (i mod 4) of philox(k0, k1, counter = [i / 4 low 32 bits,
 * i / 4 high 32 bits, domain, 0]), with domain 0 for sampling, 1 for `split` and 2 for `foldIn`.
 * A uniform float in [0, 1) is the top 24 bits of a word times 2^-24 (exact in float32).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** Stream domains (counter word 2). */
export const DOMAIN_SAMPLE = 0;
export const DOMAIN_SPLIT = 1;
export const DOMAIN_FOLD = 2;

/** High 32 bits of the 64-bit product of two uint32 values. */
export function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lo = al * bl;
  const mid1 = ah * bl;
  const mid2 = al * bh;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (ah * bh + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * One Philox4x32-10 block: writes the four output words for counter (c0, c1, c2, c3) and key (k0, k1)
 * into out[offset .. offset + 3].
 */
export function philox4x32(
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  out: Uint32Array,
  offset = 0,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let y0 = k0 >>> 0;
  let y1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ y0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ y1) >>> 0;
    x3 = lo0;
    y0 = (y0 + W0) >>> 0;
    y1 = (y1 + W1) >>> 0;
  }
  out[offset] = x0;
  out[offset + 1] = x1;
  out[offset + 2] = x2;
  out[offset + 3] = x3;
}

/** Uniform float in [0, 1) from one stream word: its top 24 bits times 2^-24. */
export function wordToUniform(w: number): number {
  return (w >>> 8) * 5.9604644775390625e-8;
}

/**
 * Fills out[j] with stream words start + j of key (k0, k1) in the sampling domain.
 * The result does not depend on how a caller splits [start, start + out.length) into pieces.
 */
export function streamWords(k0: number, k1: number, start: number, out: Uint32Array): void {
  const block = new Uint32Array(4);
  const n = out.length;
  let j = 0;
  while (j < n) {
    const i = start + j;
    const b = Math.floor(i / 4);
    philox4x32(k0, k1, b >>> 0, Math.floor(b / 0x100000000) >>> 0, DOMAIN_SAMPLE, 0, block);
    for (let w = i % 4; w < 4 && j < n; w++, j++) out[j] = block[w]!;
  }
}
