// Fused LSTM cell gate math (PyTorch gate order i, f, g, o), four lanes at a time. Every step is one
// float32 operation in the same order as the JavaScript reference (src/backend/reference.ts), so results are
// bit-identical; exp is the reference's own float32 approximation (range reduction by ln 2, degree-6 Taylor
// polynomial, exponent built from bits). Each thread takes whole rows of the batch.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.1219444e-4;

// @ts-ignore: decorator
@inline function expV(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87)), f32x4.splat(88));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 720))), f32x4.splat(<f32>(1.0 / 120)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// @ts-ignore: decorator
@inline function sigmoidV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline function tanhV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.sub(f32x4.mul(f32x4.splat(2), sigmoidV(f32x4.add(x, x))), one);
}

/**
 * gates[b×4H] (pre-activations) → act = (σ(i), σ(f), tanh(g), σ(o)); c = f·cPrev + i·g; h = o·tanh(c).
 * H must be a multiple of 4 (the JavaScript side checks). act may alias gates.
 */
export function lstmForward(gates: usize, cPrev: usize, c: usize, h: usize, act: usize, batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const b1 = <i32>(<i64>batch * <i64>(tid + 1) / <i64>nt);
  for (let b = <i32>(<i64>batch * <i64>tid / <i64>nt); b < b1; b++) {
    const g0 = gates + <usize>b * <usize>hidden * 16;
    const a0 = act + <usize>b * <usize>hidden * 16;
    const row = <usize>b * <usize>hidden * 4;
    const hb = <usize>hidden * 4;
    for (let j: usize = 0; j < hb; j += 16) {
      const ig = sigmoidV(v128.load(g0 + j));
      const fg = sigmoidV(v128.load(g0 + hb + j));
      const gg = tanhV(v128.load(g0 + 2 * hb + j));
      const og = sigmoidV(v128.load(g0 + 3 * hb + j));
      v128.store(a0 + j, ig);
      v128.store(a0 + hb + j, fg);
      v128.store(a0 + 2 * hb + j, gg);
      v128.store(a0 + 3 * hb + j, og);
      const cv = f32x4.add(f32x4.mul(fg, v128.load(cPrev + row + j)), f32x4.mul(ig, gg));
      v128.store(c + row + j, cv);
      v128.store(h + row + j, f32x4.mul(og, tanhV(cv)));
    }
  }
}

/**
 * Backward of lstmForward given dh and dc (the gradient reaching c from the next step): writes dGates
 * (pre-activation gradients, may alias act) and dcPrev (may alias dc).
 */
export function lstmBackward(act: usize, cPrev: usize, c: usize, dh: usize, dc: usize, dGates: usize, dcPrev: usize, batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const one = f32x4.splat(1);
  const b1 = <i32>(<i64>batch * <i64>(tid + 1) / <i64>nt);
  for (let b = <i32>(<i64>batch * <i64>tid / <i64>nt); b < b1; b++) {
    const a0 = act + <usize>b * <usize>hidden * 16;
    const d0 = dGates + <usize>b * <usize>hidden * 16;
    const row = <usize>b * <usize>hidden * 4;
    const hb = <usize>hidden * 4;
    for (let j: usize = 0; j < hb; j += 16) {
      const ig = v128.load(a0 + j);
      const fg = v128.load(a0 + hb + j);
      const gg = v128.load(a0 + 2 * hb + j);
      const og = v128.load(a0 + 3 * hb + j);
      const tc = tanhV(v128.load(c + row + j));
      const dhv = v128.load(dh + row + j);
      const dct = f32x4.add(v128.load(dc + row + j), f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      v128.store(d0 + j, f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
      v128.store(d0 + hb + j, f32x4.mul(f32x4.mul(dct, v128.load(cPrev + row + j)), f32x4.mul(fg, f32x4.sub(one, fg))));
      v128.store(d0 + 2 * hb + j, f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
      v128.store(d0 + 3 * hb + j, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
      v128.store(dcPrev + row + j, f32x4.mul(dct, fg));
    }
  }
}
