/**
 * CIFAR-style: a synthetic, offline stand-in for CIFAR-10 (no package registry ships CIFAR). It is NOT CIFAR:
 * 32×32 RGB images of ten shape/texture classes drawn deterministically from a key.
 *
 * Each image: a two-colour gradient background; 0–`clutter` small distractor shapes of random classes; the
 * main object of the image's class at a random position (centre within ±6 px of the middle), radius 7–13 px,
 * random rotation (texture classes: class-specific stripe orientation ± 15°) and stretch, a colour whose hue
 * leans to a class hue 60% of the time and is random otherwise (a weak cue, like sky behind airplanes), and
 * radial shading; with probability `occlusion` an opaque rectangle over part of the object; a global contrast
 * jitter; uniform pixel noise ±`noise`; finally quantisation to 8 bits, like real CIFAR bytes. Classes
 * overlap through clutter, occlusion and shared colours, so the task is neither trivial nor noise.
 *
 * Randomness: labels come in blocks of ten, each block a permutation of the ten classes drawn from
 * `foldIn(labelKey, block)`; image i draws its parameters and noise from the stream of `foldIn(imageKey, i)`
 * (`[labelKey, imageKey] = split(key)`). So `cifarStyle({ n: 1000, key })` is the first 1,000 images of
 * `cifarStyle({ n: 50000, key })`; use different keys for training and test sets.
 */
import { Tensor } from "../tensor/tensor.js";
import { foldIn, split, type Key } from "../random/keys.js";
import { permutation } from "../random/index.js";
import { streamWords, wordToUniform } from "../random/philox.js";
import type { LabeledDataset } from "./dataset.js";

/** Class names of `cifarStyle`, by id. */
export const CIFAR_STYLE_CLASSES = [
  "blob",
  "ring",
  "triangle",
  "cross",
  "square",
  "crescent",
  "h-stripes",
  "v-stripes",
  "checker",
  "spots",
] as const;

/** Options of `cifarStyle`. */
export interface CifarStyleOptions {
  /** Number of images. */
  n: number;
  /** The key every image and label derives from. */
  key: Key;
  /** Maximum number of distractor shapes per image (default 3). */
  clutter?: number;
  /** Probability of an occluding rectangle (default 0.35). */
  occlusion?: number;
  /** Half-width of the uniform pixel noise (default 0.06). */
  noise?: number;
}

const S = 32;
const PLANE = S * S;
/** Parameter words per image: 32 for the background, object, occlusion and contrast, 12 per distractor. */
const paramWords = (clutter: number) => 32 + 12 * clutter;
const NOISE_WORDS = (3 * PLANE) / 4;
/** Class hues (fraction of the colour wheel) that object colours lean to. */
const CLASS_HUE = [0.0, 0.1, 0.17, 0.3, 0.45, 0.55, 0.62, 0.7, 0.8, 0.9];

type RGB = [number, number, number];

/** Uniform numbers in [0, 1) read in order from an image's parameter words. */
class Params {
  private i = 0;
  constructor(private readonly w: Uint32Array) {}
  u(): number {
    if (this.i === this.w.length) throw new Error("cifarStyle: parameter words exhausted");
    return wordToUniform(this.w[this.i++]!);
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.u();
  }
  int(n: number): number {
    return Math.floor(this.u() * n);
  }
}

/** An RGB colour from hue (fraction of the wheel), saturation and value, all in [0, 1]. */
function hsv(h: number, s: number, v: number): RGB {
  const f = (k: number) => {
    const x = (k + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(1, Math.min(x, 4 - x)));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Signed distance (units of the radius, negative inside) of shape `cls` at local point (u, v): 0 blob with a
 * wavy rim, 1 ring, 2 triangle, 3 cross, 4 square, 5 crescent, 8 square patch (checker); the other texture
 * classes (6, 7, 9) fill a disc patch.
 */
function shapeDistance(cls: number, u: number, v: number): number {
  const r = Math.sqrt(u * u + v * v);
  switch (cls) {
    case 0: {
      const a = Math.atan2(v, u);
      return r - 0.85 * (1 + 0.15 * Math.sin(3 * a + 1) + 0.08 * Math.sin(5 * a));
    }
    case 1:
      return Math.abs(r - 0.7) - 0.22;
    case 2: {
      const h = 0.45;
      const c = 0.8660254 * u;
      return Math.max(-v - h, c + v / 2 - h, -c + v / 2 - h);
    }
    case 3:
      return Math.min(Math.max(Math.abs(u) - 0.28, Math.abs(v) - 0.95), Math.max(Math.abs(u) - 0.95, Math.abs(v) - 0.28));
    case 4:
      return Math.max(Math.abs(u), Math.abs(v)) - 0.72;
    case 5:
      return Math.max(r - 0.95, 0.8 - Math.sqrt((u - 0.5) ** 2 + (v + 0.15) ** 2));
    case 8:
      return Math.max(Math.abs(u), Math.abs(v)) - 0.8;
    default:
      return r - 0.95;
  }
}

/** Texture classes: pattern value in [0, 1] at image-space offset (x, y) from the centre; (c, s) = cos, sin
 * of the texture angle divided by its period in pixels. */
function pattern(cls: number, x: number, y: number, c: number, s: number): number {
  const a = x * c + y * s;
  const b = -x * s + y * c;
  if (cls === 6 || cls === 7) return a - Math.floor(a) < 0.5 ? 1 : 0;
  if (cls === 8) return (Math.floor(a) + Math.floor(b)) & 1;
  if (cls === 9) {
    const da = a - Math.round(a);
    const db = b - Math.round(b);
    return da * da + db * db < 0.09 ? 1 : 0;
  }
  return 0;
}

/** Draws one shape (or texture patch) of class `cls` into the planes with opacity `alpha`. */
function drawShape(img: Float32Array, cls: number, p: Params, cx: number, cy: number, radius: number, color: RGB, alpha: number): void {
  const rot = p.range(0, 2 * Math.PI);
  const stretch = p.range(0.75, 1.25);
  const texAngle = cls === 6 ? Math.PI / 2 + p.range(-0.26, 0.26) : cls === 7 ? p.range(-0.26, 0.26) : rot;
  const period = p.range(3.2, 5.5);
  const tc = Math.cos(texAngle) / period;
  const ts = Math.sin(texAngle) / period;
  const second: RGB = [color[0] * 0.25 + 0.1, color[1] * 0.25 + 0.1, color[2] * 0.25 + 0.1];
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);
  const reach = radius * 1.5 + 1; // farthest shape point: square corner 0.8·√2 times stretch 1.25
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(S - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(S - 1, Math.ceil(cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = ((dx * cr + dy * sr) / radius) * stretch;
      const v = ((-dx * sr + dy * cr) / radius) / stretch;
      const cover = Math.max(0, Math.min(1, 0.5 - shapeDistance(cls, u, v) * radius)) * alpha;
      if (cover === 0) continue;
      const t = cls >= 6 ? pattern(cls, dx, dy, tc, ts) : 0;
      const shade = 1 - 0.3 * Math.min(1, Math.sqrt((u + 0.3) ** 2 + (v + 0.3) ** 2) / 1.3);
      const at = y * S + x;
      for (let ch = 0; ch < 3; ch++) {
        const c = (t * second[ch]! + (1 - t) * color[ch]!) * shade;
        img[ch * PLANE + at] = img[ch * PLANE + at]! * (1 - cover) + c * cover;
      }
    }
  }
}

/** Fills the planes with a linear blend from c0 to c1 along direction (gx, gy) (per pixel). */
function gradient(img: Float32Array, c0: RGB, c1: RGB, gx: number, gy: number): void {
  for (let ch = 0; ch < 3; ch++) {
    const a = c0[ch]!;
    const b = c1[ch]!;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const t = Math.max(0, Math.min(1, 0.5 + (x - 15.5) * gx + (y - 15.5) * gy));
        img[ch * PLANE + y * S + x] = a + (b - a) * t;
      }
    }
  }
}

/** Contrast and brightness jitter, uniform noise (one byte of `noise` per value), 8-bit quantisation. */
function finish(img: Float32Array, noise: Uint32Array, contrast: number, bright: number, amount: number): void {
  for (let j = 0; j < 3 * PLANE; j++) {
    const byte = (noise[j >> 2]! >>> ((j & 3) * 8)) & 255;
    const v = (img[j]! - 0.5) * contrast + 0.5 + bright + amount * ((byte + 0.5) / 128 - 1);
    img[j] = Math.round(Math.max(0, Math.min(1, v)) * 255) / 255;
  }
}

/** Renders image of class `cls` from its parameter words and noise words into `img` (3 planes, [0, 1]). */
function render(img: Float32Array, cls: number, p: Params, noise: Uint32Array, o: Required<Omit<CifarStyleOptions, "n" | "key">>): void {
  const c0 = hsv(p.u(), p.range(0.1, 0.6), p.range(0.25, 0.95));
  const c1 = hsv(p.u(), p.range(0.1, 0.6), p.range(0.25, 0.95));
  const ga = p.range(0, 2 * Math.PI);
  gradient(img, c0, c1, Math.cos(ga) / S, Math.sin(ga) / S);
  const distractors = p.int(o.clutter + 1);
  for (let d = 0; d < distractors; d++) {
    const dc = p.int(10);
    drawShape(img, dc, p, p.range(2, 30), p.range(2, 30), p.range(2.5, 5), hsv(p.u(), p.range(0.2, 1), p.range(0.3, 1)), p.range(0.5, 0.9));
  }
  const hue = p.u() < 0.6 ? CLASS_HUE[cls]! + p.range(-0.06, 0.06) + 1 : p.u();
  const color = hsv(hue % 1, p.range(0.4, 1), p.range(0.45, 1));
  const cx = p.range(10, 22);
  const cy = p.range(10, 22);
  drawShape(img, cls, p, cx, cy, p.range(7, 13), color, 1);
  if (p.u() < o.occlusion) {
    const w = p.range(4, 12);
    const h = p.range(4, 12);
    const ox = cx + p.range(-10, 10) - w / 2;
    const oy = cy + p.range(-10, 10) - h / 2;
    const oc = hsv(p.u(), p.range(0, 0.8), p.range(0.2, 1));
    for (let y = Math.max(0, Math.round(oy)); y < Math.min(S, Math.round(oy + h)); y++) {
      for (let x = Math.max(0, Math.round(ox)); x < Math.min(S, Math.round(ox + w)); x++) {
        for (let ch = 0; ch < 3; ch++) img[ch * PLANE + y * S + x] = oc[ch]!;
      }
    }
  }
  finish(img, noise, p.range(0.7, 1.15), p.range(-0.08, 0.08), o.noise);
}

/**
 * A synthetic CIFAR-style dataset (see the module comment): x is [n, 3, 32, 32] in [0, 1] (multiples of
 * 1/255), labels 0–9 balanced within ±1 per class; the same key always gives the same images.
 */
export function cifarStyle(options: CifarStyleOptions): LabeledDataset {
  const { n, key, clutter = 3, occlusion = 0.35, noise = 0.06 } = options;
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`cifarStyle: n must be a non-negative integer, got ${n}`);
  if (!(Number.isInteger(clutter) && clutter >= 0)) throw new RangeError(`cifarStyle: clutter must be a non-negative integer, got ${clutter}`);
  if (!(occlusion >= 0 && occlusion <= 1)) throw new RangeError(`cifarStyle: occlusion must be in [0, 1], got ${occlusion}`);
  if (!(noise >= 0 && noise <= 1)) throw new RangeError(`cifarStyle: noise must be in [0, 1], got ${noise}`);
  const [labelKey, imageKey] = split(key, 2) as [Key, Key];
  const x = new Float32Array(n * 3 * PLANE);
  const labels = new Int32Array(n);
  const pw = paramWords(clutter);
  const words = new Uint32Array(pw + NOISE_WORDS);
  let block = new Int32Array(0);
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) block = permutation(foldIn(labelKey, i / 10), 10);
    const cls = block[i % 10]!;
    labels[i] = cls;
    const k = foldIn(imageKey, i);
    streamWords(k.k0, k.k1, 0, words);
    const img = x.subarray(i * 3 * PLANE, (i + 1) * 3 * PLANE);
    render(img, cls, new Params(words.subarray(0, pw)), words.subarray(pw), { clutter, occlusion, noise });
  }
  return {
    name: "CIFAR-style (synthetic)",
    x: new Tensor(x, [n, 3, S, S]),
    y: new Tensor(Float32Array.from(labels), [n]),
    labels,
    classes: CIFAR_STYLE_CLASSES,
  };
}
