/** Colour maps as sparse control points, linearly interpolated in sRGB. */

export type RGB = [number, number, number];
export type ColormapName = "viridis" | "diverging" | "grey";

function hex(s: string): RGB {
  return [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
}

// viridis (perceptually uniform), sampled at 9 evenly spaced points
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"].map(hex);
// a blue–white–red diverging map (symmetric lightness), for signed values centred on 0
const DIVERGING = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#f7f7f7", "#f4a582", "#d6604d", "#b2182b", "#67001f"].map(hex);
const GREY = ["#000000", "#ffffff"].map(hex);

const STOPS: Record<ColormapName, RGB[]> = { viridis: VIRIDIS, diverging: DIVERGING, grey: GREY };

/** Colour at t ∈ [0, 1] (clamped). */
export function colormap(name: ColormapName, t: number): RGB {
  const stops = STOPS[name];
  if (!stops) throw new Error(`unknown colour map "${name}" (viridis, diverging, grey)`);
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as RGB;
}

/** `n` evenly spaced colours of a map. */
export function colormapTable(name: ColormapName, n: number): RGB[] {
  return Array.from({ length: n }, (_, i) => colormap(name, n === 1 ? 0.5 : i / (n - 1)));
}

/** Okabe–Ito: distinguishable under colour-blindness, legible on white. */
export const SERIES_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933"];
