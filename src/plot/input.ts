/** Structural inputs: the library's Tensor (or anything with a row-major shape and data) satisfies them. */

/** An N-D array-like, row-major and contiguous. */
export interface ArrayLike2D {
  shape: readonly number[];
  data: Float32Array | Float64Array | number[] | ArrayLike<number>;
  /** Optional element type name, shown by `tensorView`. */
  dtype?: string;
}

/** Nested arrays of numbers (any depth, rectangular). */
export type Nested = number | readonly Nested[];

export type ArrayInput = ArrayLike2D | readonly Nested[];

/** A dense, row-major view: the normal form every plot works on. */
export interface Dense {
  shape: number[];
  data: ArrayLike<number>;
}

function isArrayLikeND(x: unknown): x is ArrayLike2D {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "shape" in x && "data" in x;
}

/** Normalise an array-like or nested array into shape + flat row-major data, checking sizes. */
export function toDense(input: ArrayInput, what = "input"): Dense {
  if (isArrayLikeND(input)) {
    const shape = Array.from(input.shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${what}: bad shape [${shape.join(", ")}]`);
    if (input.data.length !== size) {
      throw new Error(`${what}: shape [${shape.join(", ")}] needs ${size} values, data has ${input.data.length}`);
    }
    return { shape, data: input.data };
  }
  if (!Array.isArray(input)) throw new Error(`${what}: expected an array or an object with shape and data`);
  const shape: number[] = [];
  let level: unknown = input;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  let k = 0;
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof node !== "number") throw new Error(`${what}: expected a number, found ${typeof node}`);
      data[k++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new Error(`${what}: ragged nested array at depth ${depth} (expected length ${shape[depth]})`);
    }
    for (const child of node) walk(child, depth + 1);
  };
  walk(input, 0);
  return { shape, data };
}

/** Require a given number of dimensions. */
export function expectRank(d: Dense, ranks: number[], what: string): void {
  if (!ranks.includes(d.shape.length)) {
    throw new Error(`${what}: expected ${ranks.join(" or ")} dimensions, got shape [${d.shape.join(", ")}]`);
  }
}

export interface Stats {
  min: number;
  max: number;
  mean: number;
  std: number;
  nonzero: number;
  count: number;
  nonFinite: number;
}

/** min/max/mean/std over finite values; non-finite values are counted apart. */
export function stats(data: ArrayLike<number>): Stats {
  let min = Infinity, max = -Infinity, sum = 0, sq = 0, nonzero = 0, n = 0, nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    n++;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
    if (v !== 0) nonzero++;
  }
  const mean = n ? sum / n : NaN;
  const std = n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : NaN;
  return { min: n ? min : NaN, max: n ? max : NaN, mean, std, nonzero, count: data.length, nonFinite };
}
