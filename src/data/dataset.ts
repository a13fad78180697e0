/**
 * In-memory datasets (inputs and targets as tensors whose first dimension indexes samples), subsets,
 * train/validation splits and minibatches, all ordered by explicit keys.
 */
import { Tensor } from "../tensor/tensor.js";
import { Key, foldIn } from "../random/keys.js";
import { permutation } from "../random/index.js";

/** Inputs `x` and targets `y` with the same first dimension (the sample index). */
export interface Dataset {
  x: Tensor;
  y: Tensor;
}

/** A classification dataset: `y` holds the class ids as float values, `labels` the same ids as integers. */
export interface LabeledDataset extends Dataset {
  /** A short description, e.g. "MNIST train". */
  name: string;
  /** Class ids 0 … classes.length − 1, one per sample. */
  labels: Int32Array;
  /** Class names by id. */
  classes: readonly string[];
}

/** Number of samples (first dimension of `x`); throws when `x` and `y` disagree. */
export function numSamples(ds: Dataset): number {
  const n = ds.x.shape[0];
  if (n === undefined || ds.y.shape[0] !== n) {
    throw new RangeError(`dataset: x has shape [${ds.x.shape}] and y [${ds.y.shape}]; need the same first dimension`);
  }
  return n;
}

/** Rows `indices` of a tensor along its first dimension. */
export function takeRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const n = t.shape[0]!;
  const row = n === 0 ? 0 : t.size / n;
  const out = new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!(Number.isInteger(r) && r >= 0 && r < n)) throw new RangeError(`takeRows: index ${r} out of range [0, ${n})`);
    out.set(t.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
}

/** The samples `indices` of a dataset, in that order; other fields (name, classes, …) are kept. */
export function subset<D extends Dataset>(ds: D, indices: ArrayLike<number>): D {
  numSamples(ds);
  const out: Dataset & { labels?: Int32Array } = { ...ds, x: takeRows(ds.x, indices), y: takeRows(ds.y, indices) };
  const labels = (ds as Partial<LabeledDataset>).labels;
  if (labels) out.labels = Int32Array.from(indices, (i) => labels[i]!);
  return out as D;
}

/** The first `n` samples (all when `n` is undefined or larger). */
export function head<D extends Dataset>(ds: D, n?: number): D {
  const total = numSamples(ds);
  if (n === undefined || n >= total) return ds;
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`limit must be a non-negative integer, got ${n}`);
  return subset(ds, Int32Array.from({ length: n }, (_, i) => i));
}

/** Options of `trainValSplit`. */
export interface TrainValSplitOptions {
  /** Validation samples: a count (integer ≥ 1) or a fraction in (0, 1). */
  valSize: number;
  /** Orders the samples before the split: validation = the first `valSize` of `permutation(key, n)`. */
  key: Key;
}

/** Splits a dataset at random (by key) into training and validation parts; each keeps the original order. */
export function trainValSplit<D extends Dataset>(ds: D, options: TrainValSplitOptions): { train: D; val: D } {
  const n = numSamples(ds);
  const { valSize, key } = options;
  const v = valSize > 0 && valSize < 1 ? Math.round(valSize * n) : valSize;
  if (!(Number.isInteger(v) && v >= 1 && v < n)) {
    throw new RangeError(`trainValSplit: valSize must be a fraction in (0, 1) or a count in [1, ${n}), got ${valSize}`);
  }
  const perm = permutation(key, n);
  const val = perm.subarray(0, v).slice().sort();
  const train = perm.subarray(v).slice().sort();
  return { train: subset(ds, train), val: subset(ds, val) };
}

/** Options of `batches`. */
export interface BatchOptions {
  /** Samples per batch. */
  batchSize: number;
  /** A key to shuffle with (order = `permutation(foldIn(key, epoch), n)`), or false for the stored order. */
  shuffle: Key | false;
  /** The epoch number folded into the shuffle key (default 0), so each epoch has its own order. */
  epoch?: number;
  /** Skip a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/** One minibatch: rows of `x` and `y`, and which samples they are. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Sample indices of the rows, in the dataset's order. */
  indices: Int32Array;
}

/** The sample order of one epoch: `permutation(foldIn(key, epoch), n)`, or 0 … n−1 without a key. */
export function epochOrder(n: number, shuffle: Key | false, epoch = 0): Int32Array {
  if (shuffle === false) return Int32Array.from({ length: n }, (_, i) => i);
  return permutation(foldIn(shuffle, epoch), n);
}

/** Minibatches of one epoch, copied out of the dataset lazily as the iteration proceeds. */
export function* batches(ds: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize, shuffle, epoch = 0, dropLast = false } = options;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batches: batchSize must be a positive integer, got ${batchSize}`);
  if (shuffle !== false && !(shuffle instanceof Key)) {
    throw new TypeError("batches: shuffle must be a Key or false");
  }
  const n = numSamples(ds);
  const order = epochOrder(n, shuffle, epoch);
  const end = dropLast ? n - (n % batchSize) : n;
  for (let s = 0; s < end; s += batchSize) {
    const indices = order.slice(s, Math.min(s + batchSize, n));
    yield { x: takeRows(ds.x, indices), y: takeRows(ds.y, indices), indices };
  }
}

/** Number of batches `batches` yields for a dataset of n samples. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}
