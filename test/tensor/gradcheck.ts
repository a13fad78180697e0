/**
 * Gradient check by central finite differences.
 *
 * The op runs in float32, so the check works at a step where float32 rounding stays small: each input
 * element x moves to fround(x ± eps) with eps = 1e-2 and the difference quotient divides by the step actually
 * taken. The scalar L = Σ out·R (R fixed weights in [−1, 1], so every output gets a different upstream
 * gradient) is summed in float64. Error budget for outputs of size ≤ 1e2 and magnitude ≤ ~10: float32 rounding
 * of the outputs contributes ≤ 100·10·6e-8 / 2e-2 ≈ 3e-3 in the worst case (≈ 3e-4 typically) and the
 * truncation error of the central difference is eps²/6·|f'''| ≈ 2e-5·|f'''|. Hence the default tolerance
 * |analytic − numeric| ≤ 5e-3 + 1e-2·|numeric|; a wrong gradient (a missed factor, sign or broadcast sum)
 * is off by O(1).
 */
import { expect } from "vitest";
import { Tensor, noGrad } from "../../src/tensor/index.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

function weights(n: number): Float64Array {
  // A fixed, irregular sequence in [−1, 1] (not the library's RNG, which is under test elsewhere).
  return Float64Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3) * 0.9 + 0.1 * Math.cos(5.1 * i));
}

function lossOf(out: Tensor, r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.size; i++) s += out.data[i]! * r[i]!;
  return s;
}

/** Checks the gradients of fn with respect to every input that requires grad. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const { eps = 1e-2, atol = 5e-3, rtol = 1e-2 } = options;
  for (const x of inputs) x.grad = null;
  const out = fn(...inputs);
  const r = weights(out.size);
  out.backward(new Tensor(Float32Array.from(r), out.shape));
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    expect(x.grad, `input ${xi} got no gradient`).not.toBeNull();
    const analytic = x.grad!.data;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i]!;
      const up = Math.fround(v + eps);
      const down = Math.fround(v - eps);
      x.data[i] = up;
      const lp = noGrad(() => lossOf(fn(...inputs), r));
      x.data[i] = down;
      const lm = noGrad(() => lossOf(fn(...inputs), r));
      x.data[i] = v;
      const numeric = (lp - lm) / (up - down);
      const err = Math.abs(analytic[i]! - numeric);
      if (err > atol + rtol * Math.abs(numeric)) {
        expect.fail(`input ${xi} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`);
      }
    }
  });
}
