/** Shape ops: reshape, transpose/permute, slice, concat/stack, gather/indexSelect, oneHot. */
import { Tensor, accumulate, gradBuffer, result, type IndexLike } from "./tensor.js";
import { broadcastShapes, checkShape, expandTo, fmt, normAxis, reduceTo, sameShape, sizeOf, stridesOf, type Shape } from "./shape.js";
import { split3 } from "./ops.js";
import { alloc } from "./pool.js";

/** The same data in a new shape; one dimension may be −1 (inferred). Shares storage with x. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const free = shape.indexOf(-1);
  let s = [...shape];
  if (free >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    s[free] = x.size / known;
  }
  checkShape(s, "reshape");
  if (sizeOf(s) !== x.size) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
  return result(x.data, s, "reshape", [x], (g) => accumulate(x, g, false));
}

/** Merges dimensions startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const a = normAxis(startDim, x.ndim, "flatten");
  const b = normAxis(endDim, x.ndim, "flatten");
  if (a > b) throw new RangeError(`flatten: startDim ${startDim} is after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, a), sizeOf(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)]);
}

/** Removes `axis` (which must have size 1), or every size-1 dimension when omitted. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis(axis, x.ndim, "squeeze");
  if (x.shape[a] !== 1) throw new Error(`squeeze: dimension ${axis} of shape ${fmt(x.shape)} is not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Inserts a size-1 dimension at `axis` (in [−ndim−1, ndim]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.ndim + 1, "unsqueeze");
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** x broadcast to `shape` (a copy); the gradient is summed back. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkShape(shape, "expand");
  const b = broadcastShapes(x.shape, shape, "expand");
  if (!sameShape(b, shape)) throw new Error(`expand: shape ${fmt(x.shape)} cannot expand to ${fmt(shape)}`);
  return result(expandTo(x.data, x.shape, shape), shape, "expand", [x], (g) => {
    const r = reduceTo(g, shape, x.shape);
    accumulate(x, r, r !== g);
  });
}

/**
 * Copies the strided view (base, counts, strides) of src into a contiguous array (or, with `into`, adds the
 * contiguous values `into.values` back into that view of `into.target`).
 */
function strided(src: Float32Array, base: number, counts: number[], strides: number[], into?: { values: Float32Array }): Float32Array {
  const n = sizeOf(counts);
  const out = into ? into.values : alloc(n);
  if (n === 0) return out;
  const nd = counts.length;
  const len = nd ? counts[nd - 1]! : 1;
  const step = nd ? strides[nd - 1]! : 0;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let off = base;
  for (let o = 0; o < n; o += len) {
    if (into) for (let k = 0, p = off; k < len; k++, p += step) src[p] += out[o + k]!;
    else for (let k = 0, p = off; k < len; k++, p += step) out[o + k] = src[p]!;
    for (let d = nd - 2; d >= 0; d--) {
      off += strides[d]!;
      if (++idx[d]! < counts[d]!) break;
      idx[d] = 0;
      off -= strides[d]! * counts[d]!;
    }
  }
  return out;
}

/** Reorders dimensions: output dimension i is input dimension dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const nd = x.ndim;
  const perm = dims.map((d) => normAxis(d, nd, "permute"));
  if (perm.length !== nd || new Set(perm).size !== nd) {
    throw new Error(`permute: [${dims.join(",")}] is not a permutation of the dimensions of ${fmt(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  const shape = perm.map((d) => x.shape[d]!);
  const strides = perm.map((d) => st[d]!);
  return result(strided(x.data, 0, shape, strides), shape, "permute", [x], (g) => {
    strided(gradBuffer(x), 0, shape, strides, { values: g });
  });
}

/** Swaps two dimensions (default: the last two). */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const p = Array.from({ length: x.ndim }, (_, i) => i);
  const a = normAxis(d0, x.ndim, "transpose");
  const b = normAxis(d1, x.ndim, "transpose");
  [p[a], p[b]] = [p[b]!, p[a]!];
  return permute(x, p);
}

/**
 * One axis of a slice: `[start, end, step]` with Python semantics (negative counts from the end, out-of-range
 * bounds clamp, step ≥ 1), any part may be omitted or null; null or undefined keeps the whole axis.
 */
export type SliceRange = readonly [start?: number | null, end?: number | null, step?: number | null] | null | undefined;

/** Basic slicing per axis, e.g. `slice(x, [null, [1, 3]])` is PyTorch's `x[:, 1:3]`; missing trailing axes are whole. */
export function slice(x: Tensor, ranges: readonly SliceRange[]): Tensor {
  if (ranges.length > x.ndim) throw new RangeError(`slice: ${ranges.length} ranges for shape ${fmt(x.shape)}`);
  const st = stridesOf(x.shape);
  let base = 0;
  const counts: number[] = [];
  const strides: number[] = [];
  x.shape.forEach((n, d) => {
    const [s0, e0, k0] = ranges[d] ?? [];
    const step = k0 ?? 1;
    if (!Number.isInteger(step) || step < 1) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
    const clampIdx = (v: number | null | undefined, dflt: number) =>
      v === undefined || v === null ? dflt : Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const start = clampIdx(s0, 0);
    const end = clampIdx(e0, n);
    counts.push(Math.max(0, Math.ceil((end - start) / step)));
    strides.push(st[d]! * step);
    base += start * st[d]!;
  });
  const shape = counts;
  return result(strided(x.data, base, counts, strides), shape, "slice", [x], (g) => {
    strided(gradBuffer(x), base, counts, strides, { values: g });
  });
}

/** Splits x along `axis` into `chunks` slices of size ceil(n / chunks) (the last may be smaller), as PyTorch. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const ax = normAxis(axis, x.ndim, "chunk");
  const n = x.shape[ax]!;
  const size = Math.ceil(n / chunks);
  const out: Tensor[] = [];
  for (let start = 0; start < n; start += size) {
    const ranges: SliceRange[] = x.shape.map(() => null);
    ranges[ax] = [start, start + size];
    out.push(slice(x, ranges));
  }
  return out;
}

/** Joins tensors along an existing axis; all other dimensions must agree. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error("concat: no tensors");
  const first = tensors[0]!;
  const ax = normAxis(axis, first.ndim, "concat");
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ outside axis ${ax}`);
    }
  }
  const shape = [...first.shape];
  shape[ax] = tensors.reduce((s, t) => s + t.shape[ax]!, 0);
  const [outer, total, inner] = split3(shape, ax);
  const out = alloc(sizeOf(shape));
  let at = 0;
  const starts = tensors.map((t) => {
    const w = t.shape[ax]! * inner;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * w, (o + 1) * w), o * total * inner + at);
    const s = at;
    at += w;
    return s;
  });
  return result(out, shape, "concat", tensors, (g) => {
    tensors.forEach((t, k) => {
      if (!t.requiresGrad) return;
      const w = t.shape[ax]! * inner;
      const gt = gradBuffer(t);
      for (let o = 0; o < outer; o++) {
        const from = o * total * inner + starts[k]!;
        for (let i = 0; i < w; i++) gt[o * w + i] += g[from + i]!;
      }
    });
  });
}

/** Joins same-shape tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack: no tensors");
  const first = tensors[0]!;
  for (const t of tensors) {
    if (!sameShape(t.shape, first.shape)) throw new Error(`stack: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ`);
  }
  const ax = normAxis(axis, first.ndim + 1, "stack");
  return concat(tensors.map((t) => unsqueeze(t, ax)), ax);
}

/** Validated integer indices in [0, n). */
export function toIndices(idx: IndexLike, n: number, op: string): Int32Array {
  const src = idx instanceof Tensor ? idx.data : idx;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new RangeError(`${op}: index ${v} out of range [0, ${n})`);
    out[i] = v;
  }
  return out;
}

/** The slices of x at `indices` along `axis` (PyTorch's `index_select`); e.g. rows of a batch. */
export function indexSelect(x: Tensor, axis: number, indices: IndexLike): Tensor {
  const ax = normAxis(axis, x.ndim, "indexSelect");
  const [outer, n, inner] = split3(x.shape, ax);
  const idx = toIndices(indices, n, "indexSelect");
  const shape = [...x.shape];
  shape[ax] = idx.length;
  const m = idx.length;
  const out = alloc(sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * n + idx[j]!) * inner;
      out.set(x.data.subarray(src, src + inner), (o * m + j) * inner);
    }
  }
  return result(out, shape, "indexSelect", [x], (g) => {
    const gx = gradBuffer(x);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) {
        const dst = (o * n + idx[j]!) * inner;
        const src = (o * m + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i] += g[src + i]!;
      }
    }
  });
}

/**
 * PyTorch's `gather`: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1 (likewise for other axes). `index` has
 * x's number of dimensions and no dimension larger than x's except along `axis`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const ax = normAxis(axis, x.ndim, "gather");
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new Error(`gather: index shape ${fmt(index.shape)} does not fit input ${fmt(x.shape)} along axis ${ax}`);
  }
  const idx = toIndices(index, x.shape[ax]!, "gather");
  const xs = stridesOf(x.shape);
  const shape = index.shape;
  const src = new Int32Array(idx.length);
  const coord = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < idx.length; e++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (d === ax ? idx[e]! : coord[d]!) * xs[d]!;
    src[e] = off;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  const out = alloc(idx.length);
  for (let e = 0; e < src.length; e++) out[e] = x.data[src[e]!]!;
  return result(out, shape, "gather", [x], (g) => {
    const gx = gradBuffer(x);
    for (let e = 0; e < src.length; e++) gx[src[e]!] += g[e]!;
  });
}

/** One-hot rows: labels of shape s (integers in [0, numClasses)) give a tensor of shape [...s, numClasses]. */
export function oneHot(labels: IndexLike, numClasses: number): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const idx = toIndices(labels, numClasses, "oneHot");
  const out = alloc(idx.length * numClasses);
  for (let i = 0; i < idx.length; i++) out[i * numClasses + idx[i]!] = 1;
  const shape = labels instanceof Tensor ? [...labels.shape, numClasses] : [idx.length, numClasses];
  return new Tensor(out, shape);
}
