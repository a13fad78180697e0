/** Honest downsampling for line charts: per x-bucket keep the minimum and the maximum (in x order). */

export interface Points {
  x: number[];
  y: number[];
}

/**
 * Split [x0, x1] into `buckets` equal intervals; in each keep the points holding the bucket's smallest
 * and largest y (one point when they coincide), in their original order, plus the first and last points.
 * Non-finite y values are dropped. Series with at most 2 × buckets points are returned unchanged.
 */
export function minMaxDownsample(p: Points, buckets: number, x0 = p.x[0], x1 = p.x[p.x.length - 1]): Points {
  const n = p.x.length;
  if (n <= 2 * buckets || !(x1 > x0)) return p;
  const keep = new Uint8Array(n);
  const lo = new Int32Array(buckets).fill(-1), hi = new Int32Array(buckets).fill(-1);
  let first = -1, last = -1;
  for (let i = 0; i < n; i++) {
    const y = p.y[i];
    if (!Number.isFinite(y)) continue;
    if (first < 0) first = i;
    last = i;
    const b = Math.min(buckets - 1, Math.max(0, Math.floor(((p.x[i] - x0) / (x1 - x0)) * buckets)));
    if (lo[b] < 0 || y < p.y[lo[b]]) lo[b] = i;
    if (hi[b] < 0 || y > p.y[hi[b]]) hi[b] = i;
  }
  for (let b = 0; b < buckets; b++) if (lo[b] >= 0) { keep[lo[b]] = 1; keep[hi[b]] = 1; }
  if (first >= 0) { keep[first] = 1; keep[last] = 1; }
  const out: Points = { x: [], y: [] };
  for (let i = 0; i < n; i++) if (keep[i]) { out.x.push(p.x[i]); out.y.push(p.y[i]); }
  return out;
}

/** Exponential moving average with bias correction (TensorBoard-style); `weight` in [0, 1). */
export function ema(y: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smoothing must be in [0, 1), got ${weight}`);
  let s = 0, k = 0;
  return y.map((v) => {
    if (!Number.isFinite(v)) return v;
    k++;
    s = weight * s + (1 - weight) * v;
    return s / (1 - weight ** k);
  });
}
