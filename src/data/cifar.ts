/**
 * The CIFAR-10 binary format (Krizhevsky 2009), for users with a local copy of `cifar-10-binary.tar.gz`
 * unpacked: each record is 1 label byte then 3,072 pixel bytes, the 32×32 red plane, then green, then blue,
 * each row-major. Training files are data_batch_1.bin … data_batch_5.bin, the test file test_batch.bin.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tensor } from "../tensor/tensor.js";
import { DataError, count } from "./errors.js";
import { readMaybeGzip } from "./files.js";
import type { LabeledDataset } from "./dataset.js";

/** CIFAR-10 class names by label byte. */
export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"] as const;

const PIXELS = 3 * 32 * 32;
const RECORD = 1 + PIXELS;

/** Options of `cifar10Binary`. */
export interface Cifar10BinaryOptions {
  /** With a directory: "train" (data_batch_1…5.bin) or "test" (test_batch.bin). Default "train". */
  split?: "train" | "test";
  /** Keep only the first `limit` records (over the files in order). */
  limit?: number;
}

/** The files of a split in a directory (or in its `cifar-10-batches-bin` subdirectory). */
function splitFiles(dir: string, split: "train" | "test"): string[] {
  const nested = join(dir, "cifar-10-batches-bin");
  const base = existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
  const names = split === "train" ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ["test_batch.bin"];
  const present = new Set(readdirSync(base));
  const missing = names.filter((f) => !present.has(f));
  if (missing.length > 0) throw new DataError(base, `has no ${missing.join(", ")} (the CIFAR-10 binary version)`);
  return names.map((f) => join(base, f));
}

/**
 * Reads CIFAR-10 binary files (a list of paths, or a directory with the standard names; gzip accepted) into
 * x [N, 3, 32, 32] with values in [0, 1] and labels 0–9.
 */
export function cifar10Binary(source: string | readonly string[], options: Cifar10BinaryOptions = {}): LabeledDataset {
  const { split = "train", limit = Infinity } = options;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) throw new RangeError(`cifar10Binary: limit must be a non-negative integer, got ${limit}`);
  const files = typeof source === "string" ? splitFiles(source, split) : [...source];
  if (files.length === 0) throw new RangeError("cifar10Binary: no files given");
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const file of files) {
    if (total >= limit) break;
    const bytes = readMaybeGzip(file);
    if (bytes.length === 0 || bytes.length % RECORD !== 0) {
      throw new DataError(file, `is ${count(bytes.length)} bytes, not a multiple of ${count(RECORD)} (one label byte and ${count(PIXELS)} pixel bytes per record)`);
    }
    for (let r = 0; r < bytes.length / RECORD; r++) {
      const label = bytes[r * RECORD]!;
      if (label > 9) throw new DataError(file, `has label byte ${label} in record ${count(r)}, not a class id 0–9`);
    }
    parts.push(bytes);
    total += bytes.length / RECORD;
  }
  const n = Math.min(total, limit);
  const x = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  let i = 0;
  for (const bytes of parts) {
    for (let r = 0; r < bytes.length / RECORD && i < n; r++, i++) {
      labels[i] = bytes[r * RECORD]!;
      const px = bytes.subarray(r * RECORD + 1, (r + 1) * RECORD);
      for (let j = 0; j < PIXELS; j++) x[i * PIXELS + j] = px[j]! / 255;
    }
  }
  const name = typeof source === "string" ? `CIFAR-10 ${split}` : "CIFAR-10";
  return { name, x: new Tensor(x, [n, 3, 32, 32]), y: new Tensor(Float32Array.from(labels), [n]), labels, classes: CIFAR10_CLASSES };
}
