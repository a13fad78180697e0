// im2col and its adjoint col2im for one image, stride s, zero padding p, dilation 1; the same loops as the
// JavaScript reference, so results are bit-identical. Threads split im2col by rows of cols and col2im by
// channels (each channel's rows only touch that channel of dx, added in the reference's order).

export function im2col(x: usize, cols: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  const oh = (h + 2 * pad - kh) / stride + 1;
  const ow = (w + 2 * pad - kw) / stride + 1;
  const rows = c * kh * kw;
  const r1 = <i32>(<i64>rows * <i64>(tid + 1) / <i64>nt);
  for (let row = <i32>(<i64>rows * <i64>tid / <i64>nt); row < r1; row++) {
    const ci = row / (kh * kw);
    const ki = (row / kw) % kh;
    const kj = row % kw;
    const src = x + <usize>(ci * h * w) * 4;
    const dst = cols + <usize>row * <usize>(oh * ow) * 4;
    for (let oi = 0; oi < oh; oi++) {
      const ii = oi * stride - pad + ki;
      const d = dst + <usize>(oi * ow) * 4;
      if (ii < 0 || ii >= h) {
        memory.fill(d, 0, <usize>ow * 4);
        continue;
      }
      const srow = src + <usize>(ii * w) * 4;
      if (stride == 1) {
        // Columns lo ≤ oj < hi read x[ii, oj − pad + kj] inside the row: one copy, zeros either side.
        const lo = min(max(pad - kj, 0), ow);
        const hi = max(min(w + pad - kj, ow), lo);
        memory.fill(d, 0, <usize>lo * 4);
        memory.copy(d + <usize>lo * 4, srow + <usize>(lo - pad + kj) * 4, <usize>(hi - lo) * 4);
        memory.fill(d + <usize>hi * 4, 0, <usize>(ow - hi) * 4);
        continue;
      }
      for (let oj = 0; oj < ow; oj++) {
        const jj = oj * stride - pad + kj;
        store<f32>(d + <usize>oj * 4, jj >= 0 && jj < w ? load<f32>(srow + <usize>jj * 4) : 0);
      }
    }
  }
}

export function col2im(cols: usize, dx: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  const oh = (h + 2 * pad - kh) / stride + 1;
  const ow = (w + 2 * pad - kw) / stride + 1;
  const c1 = <i32>(<i64>c * <i64>(tid + 1) / <i64>nt);
  for (let ci = <i32>(<i64>c * <i64>tid / <i64>nt); ci < c1; ci++) {
    const dst = dx + <usize>(ci * h * w) * 4;
    for (let kk = 0; kk < kh * kw; kk++) {
      const ki = kk / kw;
      const kj = kk % kw;
      const src = cols + <usize>(ci * kh * kw + kk) * <usize>(oh * ow) * 4;
      for (let oi = 0; oi < oh; oi++) {
        const ii = oi * stride - pad + ki;
        if (ii < 0 || ii >= h) continue;
        const drow = dst + <usize>(ii * w) * 4;
        const srow = src + <usize>(oi * ow) * 4;
        for (let oj = 0; oj < ow; oj++) {
          const jj = oj * stride - pad + kj;
          if (jj >= 0 && jj < w) store<f32>(drow + <usize>jj * 4, load<f32>(drow + <usize>jj * 4) + load<f32>(srow + <usize>oj * 4));
        }
      }
    }
  }
}
