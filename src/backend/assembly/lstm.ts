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
 * Optional masks (address 0 = none), each [batch×H]: gm multiplies g (recurrent dropout, scaled values);
 * zoneout zc / zh (1 keeps the previous value) write cOut = zc ? cPrev : c and replace h by hPrev where zh is
 * 1; vm (variational recurrent mask) writes hm = h·vm, the next step's input to the recurrent weights.
 */
export function lstmForward(gates: usize, cPrev: usize, c: usize, h: usize, act: usize, gm: usize, zc: usize, cOut: usize, zh: usize, hPrev: usize, vm: usize, hm: usize, batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const one = f32x4.splat(1);
  const b1 = <i32>(<i64>batch * <i64>(tid + 1) / <i64>nt);
  for (let b = <i32>(<i64>batch * <i64>tid / <i64>nt); b < b1; b++) {
    const g0 = gates + <usize>b * <usize>hidden * 16;
    const a0 = act + <usize>b * <usize>hidden * 16;
    const row = <usize>b * <usize>hidden * 4;
    const hb = <usize>hidden * 4;
    for (let j: usize = 0; j < hb; j += 16) {
      const k = row + j;
      const ig = sigmoidV(v128.load(g0 + j));
      const fg = sigmoidV(v128.load(g0 + hb + j));
      const gg = tanhV(v128.load(g0 + 2 * hb + j));
      const og = sigmoidV(v128.load(g0 + 3 * hb + j));
      v128.store(a0 + j, ig);
      v128.store(a0 + hb + j, fg);
      v128.store(a0 + 2 * hb + j, gg);
      v128.store(a0 + 3 * hb + j, og);
      const cp = v128.load(cPrev + k);
      const cv = f32x4.add(f32x4.mul(fg, cp), f32x4.mul(ig, gm != 0 ? f32x4.mul(gg, v128.load(gm + k)) : gg));
      v128.store(c + k, cv);
      let hv = f32x4.mul(og, tanhV(cv));
      if (zc != 0) v128.store(cOut + k, v128.bitselect(cp, cv, f32x4.eq(v128.load(zc + k), one)));
      if (zh != 0) hv = v128.bitselect(v128.load(hPrev + k), hv, f32x4.eq(v128.load(zh + k), one));
      v128.store(h + k, hv);
      if (vm != 0) v128.store(hm + k, f32x4.mul(hv, v128.load(vm + k)));
    }
  }
}

/**
 * Backward of lstmForward given dh and dc (the gradients reaching its h and c outputs, after zoneout) and,
 * with vm, dhm (the gradient reaching hm, added to dh as dhm·vm): writes dGates (pre-activation gradients,
 * may alias act) and dcPrev (may alias dc), and with zh, dhPrev (the part of h's gradient that zoneout passes
 * straight to hPrev). The masks are the forward's.
 */
export function lstmBackward(act: usize, cPrev: usize, c: usize, dh: usize, dc: usize, dGates: usize, dcPrev: usize, gm: usize, zc: usize, zh: usize, dhPrev: usize, vm: usize, dhm: usize, batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const b1 = <i32>(<i64>batch * <i64>(tid + 1) / <i64>nt);
  for (let b = <i32>(<i64>batch * <i64>tid / <i64>nt); b < b1; b++) {
    const a0 = act + <usize>b * <usize>hidden * 16;
    const d0 = dGates + <usize>b * <usize>hidden * 16;
    const row = <usize>b * <usize>hidden * 4;
    const hb = <usize>hidden * 4;
    for (let j: usize = 0; j < hb; j += 16) {
      const k = row + j;
      const ig = v128.load(a0 + j);
      const fg = v128.load(a0 + hb + j);
      const gg = v128.load(a0 + 2 * hb + j);
      const og = v128.load(a0 + 3 * hb + j);
      const tc = tanhV(v128.load(c + k));
      let dhv = v128.load(dh + k);
      if (vm != 0) dhv = f32x4.add(dhv, f32x4.mul(v128.load(dhm + k), v128.load(vm + k)));
      if (zh != 0) {
        const keep = f32x4.eq(v128.load(zh + k), one);
        v128.store(dhPrev + k, v128.bitselect(dhv, zero, keep));
        dhv = v128.bitselect(zero, dhv, keep);
      }
      let dcv = v128.load(dc + k);
      let dcKeep = zero;
      if (zc != 0) {
        const keep = f32x4.eq(v128.load(zc + k), one);
        dcKeep = v128.bitselect(dcv, zero, keep);
        dcv = v128.bitselect(zero, dcv, keep);
      }
      const dct = f32x4.add(dcv, f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      if (gm != 0) {
        const m = v128.load(gm + k);
        v128.store(d0 + j, f32x4.mul(f32x4.mul(dct, f32x4.mul(gg, m)), f32x4.mul(ig, f32x4.sub(one, ig))));
        v128.store(d0 + 2 * hb + j, f32x4.mul(f32x4.mul(f32x4.mul(dct, ig), m), f32x4.sub(one, f32x4.mul(gg, gg))));
      } else {
        v128.store(d0 + j, f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
        v128.store(d0 + 2 * hb + j, f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
      }
      v128.store(d0 + hb + j, f32x4.mul(f32x4.mul(dct, v128.load(cPrev + k)), f32x4.mul(fg, f32x4.sub(one, fg))));
      v128.store(d0 + 3 * hb + j, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
      const dcp = f32x4.mul(dct, fg);
      v128.store(dcPrev + k, zc != 0 ? f32x4.add(dcp, dcKeep) : dcp);
    }
  }
}
