/** Axis helpers: nice ticks, linear and log scales, compact number formatting. */

/** A "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `count` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** Domain widened to whole steps, and the ticks inside it. */
export function niceTicks(lo: number, hi: number, count = 5): { lo: number; hi: number; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (lo === hi) { const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= pad; hi += pad; }
  const step = niceStep(lo, hi, count);
  const nlo = Math.floor(lo / step + 1e-9) * step;
  const nhi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = nlo; v <= nhi + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return { lo: nlo, hi: nhi, ticks };
}

/** Integer ticks (epochs, units): never a fractional step. */
export function intTicks(lo: number, hi: number, count = 6): { lo: number; hi: number; ticks: number[] } {
  const t = niceTicks(lo, hi, count);
  const step = Math.max(1, Math.round(niceStep(lo, hi, count)));
  const ticks: number[] = [];
  for (let v = Math.ceil(t.lo / step) * step; v <= t.hi; v += step) ticks.push(v);
  return { lo: Math.min(lo, t.lo), hi: Math.max(hi, t.hi), ticks };
}

/** Decades (and 2×, 5× when few decades) between lo > 0 and hi. */
export function logTicks(lo: number, hi: number): { lo: number; hi: number; ticks: number[] } {
  if (!(lo > 0) || !(hi > 0)) throw new Error("log scale needs positive values");
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const ticks: number[] = [];
  const mult = b - a <= 3 ? [1, 2, 5] : [1];
  for (let k = a; k <= b; k++) for (const m of mult) ticks.push(+(m * 10 ** k).toPrecision(6));
  const inside = ticks.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  return { lo: Math.min(lo, inside[0] ?? lo), hi: Math.max(hi, inside[inside.length - 1] ?? hi), ticks: inside };
}

export type Scale = (v: number) => number;

export function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export function log(d0: number, d1: number, r0: number, r1: number): Scale {
  const s = linear(Math.log10(d0), Math.log10(d1), r0, r1);
  return (v) => (v > 0 ? s(Math.log10(v)) : NaN);
}

/** Short human form: up to `digits` significant digits; exponent form for very small or large values. */
export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 2)).replace("e+", "e");
  return (+v.toPrecision(digits)).toString();
}
