// Elementwise kernels and reductions, 4 lanes at a time with a scalar tail. Arguments are byte addresses
// and element counts; output may alias an input. Each function handles units [n·tid/nt, n·(tid+1)/nt)
// split on multiples of 4, so any thread count gives the same bits.

// @ts-ignore: decorator
@inline function share(n: i32, tid: i32, nt: i32, end: bool): usize {
  const quads = <i64>(n >> 2);
  const q = quads * <i64>(end ? tid + 1 : tid) / <i64>nt;
  return end && tid == nt - 1 ? <usize>n : <usize>(q * 4);
}

/** dst[j] = 0 for this thread's share of units [0, n) (bulk memory fill). */
export function zero(dst: usize, n: i32, tid: i32, nt: i32): void {
  const j0 = share(n, tid, nt, false);
  memory.fill(dst + j0 * 4, 0, (share(n, tid, nt, true) - j0) * 4);
}

/** out = max-like relu: x > 0 ? x : 0 (NaN gives 0, as in the reference). */
export function relu(x: usize, out: usize, n: i32, tid: i32, nt: i32): void {
  const j1 = share(n, tid, nt, true);
  let j = share(n, tid, nt, false);
  const zero = f32x4.splat(0);
  for (; j + 4 <= j1; j += 4) {
    const v = v128.load(x + j * 4);
    v128.store(out + j * 4, v128.bitselect(v, zero, f32x4.gt(v, zero)));
  }
  for (; j < j1; j++) {
    const v = load<f32>(x + j * 4);
    store<f32>(out + j * 4, v > 0 ? v : 0);
  }
}

/** dx = y > 0 ? dy : 0, with y the relu input or output. */
export function reluBackward(dy: usize, y: usize, dx: usize, n: i32, tid: i32, nt: i32): void {
  const j1 = share(n, tid, nt, true);
  let j = share(n, tid, nt, false);
  const zero = f32x4.splat(0);
  for (; j + 4 <= j1; j += 4) {
    const g = v128.load(dy + j * 4);
    v128.store(dx + j * 4, v128.and(g, f32x4.gt(v128.load(y + j * 4), zero)));
  }
  for (; j < j1; j++) store<f32>(dx + j * 4, load<f32>(y + j * 4) > 0 ? load<f32>(dy + j * 4) : 0);
}

// @ts-ignore: decorator
@inline const OP_ADD = 0;
// @ts-ignore: decorator
@inline const OP_SUB = 1;
// @ts-ignore: decorator
@inline const OP_MUL = 2;

// @ts-ignore: decorator
@inline function binV(op: i32, a: v128, b: v128): v128 {
  return op == OP_ADD ? f32x4.add(a, b) : op == OP_SUB ? f32x4.sub(a, b) : f32x4.mul(a, b);
}
// @ts-ignore: decorator
@inline function binS(op: i32, a: f32, b: f32): f32 {
  return op == OP_ADD ? a + b : op == OP_SUB ? a - b : a * b;
}

/** out = a (op) b elementwise, op 0 add, 1 subtract, 2 multiply. */
export function binary(op: i32, a: usize, b: usize, out: usize, n: i32, tid: i32, nt: i32): void {
  const j1 = share(n, tid, nt, true);
  let j = share(n, tid, nt, false);
  for (; j + 4 <= j1; j += 4) v128.store(out + j * 4, binV(op, v128.load(a + j * 4), v128.load(b + j * 4)));
  for (; j < j1; j++) store<f32>(out + j * 4, binS(op, load<f32>(a + j * 4), load<f32>(b + j * 4)));
}

/** out[i, j] = x[i, j] (op) row[j] for a rows×cols x; this thread takes rows [rows·tid/nt, rows·(tid+1)/nt). */
export function binaryRow(op: i32, x: usize, row: usize, out: usize, rows: i32, cols: i32, tid: i32, nt: i32): void {
  const i1 = <i32>(<i64>rows * <i64>(tid + 1) / <i64>nt);
  for (let i = <i32>(<i64>rows * <i64>tid / <i64>nt); i < i1; i++) {
    const base = <usize>i * <usize>cols * 4;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = base + <usize>j * 4;
      v128.store(out + at, binV(op, v128.load(x + at), v128.load(row + <usize>j * 4)));
    }
    for (; j < cols; j++) {
      const at = base + <usize>j * 4;
      store<f32>(out + at, binS(op, load<f32>(x + at), load<f32>(row + <usize>j * 4)));
    }
  }
}

/** out[j] (+)= Σ_i x[i, j] over rows in ascending order, in float32; this thread takes a range of columns. */
export function sumRows(x: usize, out: usize, rows: i32, cols: i32, accumulate: bool, tid: i32, nt: i32): void {
  const j1 = share(cols, tid, nt, true);
  let j = share(cols, tid, nt, false);
  const stride = <usize>cols * 4;
  for (; j + 4 <= j1; j += 4) {
    let s = accumulate ? v128.load(out + j * 4) : f32x4.splat(0);
    for (let i = 0; i < rows; i++) s = f32x4.add(s, v128.load(x + <usize>i * stride + j * 4));
    v128.store(out + j * 4, s);
  }
  for (; j < j1; j++) {
    let s: f32 = accumulate ? load<f32>(out + j * 4) : 0;
    for (let i = 0; i < rows; i++) s += load<f32>(x + <usize>i * stride + j * 4);
    store<f32>(out + j * 4, s);
  }
}

/** y += alpha·x (float32 arithmetic: the product is rounded, then the sum). */
export function axpy(alpha: f32, x: usize, y: usize, n: i32, tid: i32, nt: i32): void {
  const j1 = share(n, tid, nt, true);
  let j = share(n, tid, nt, false);
  const av = f32x4.splat(alpha);
  for (; j + 4 <= j1; j += 4) {
    v128.store(y + j * 4, f32x4.add(v128.load(y + j * 4), f32x4.mul(av, v128.load(x + j * 4))));
  }
  for (; j < j1; j++) store<f32>(y + j * 4, load<f32>(y + j * 4) + alpha * load<f32>(x + j * 4));
}

/**
 * SGD with momentum as PyTorch does it (dampening 0): v = momentum·v + g, then w -= lr·v, in float32.
 */
export function sgdMomentum(w: usize, g: usize, v: usize, lr: f32, momentum: f32, n: i32, tid: i32, nt: i32): void {
  const j1 = share(n, tid, nt, true);
  let j = share(n, tid, nt, false);
  const lrV = f32x4.splat(lr);
  const mV = f32x4.splat(momentum);
  for (; j + 4 <= j1; j += 4) {
    const vel = f32x4.add(f32x4.mul(mV, v128.load(v + j * 4)), v128.load(g + j * 4));
    v128.store(v + j * 4, vel);
    v128.store(w + j * 4, f32x4.sub(v128.load(w + j * 4), f32x4.mul(lrV, vel)));
  }
  for (; j < j1; j++) {
    const vel = momentum * load<f32>(v + j * 4) + load<f32>(g + j * 4);
    store<f32>(v + j * 4, vel);
    store<f32>(w + j * 4, load<f32>(w + j * 4) - lr * vel);
  }
}
