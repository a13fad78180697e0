/** Losses beyond the engine's `crossEntropy` and `mseLoss`, and the bits-per-character conversion. */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { mean, sum, neg } from "../tensor/ops.js";
import { gather } from "../tensor/shapeops.js";
import type { IndexLike } from "../tensor/tensor.js";
import type { LossOptions } from "../tensor/layers.js";
import { toIndices } from "../tensor/shapeops.js";

export { crossEntropy, mseLoss } from "../tensor/layers.js";

/** Negative log-likelihood of log-probabilities [N, C] (e.g. from logSoftmax) at integer labels. */
export function nllLoss(logProbs: Tensor, target: IndexLike, options: LossOptions = {}): Tensor {
  if (logProbs.ndim !== 2) throw new Error(`nllLoss: log-probabilities must be [N, C], got ${fmt(logProbs.shape)}`);
  const [N, C] = logProbs.shape as [number, number];
  const idx = toIndices(target, C, "nllLoss");
  if (idx.length !== N) throw new Error(`nllLoss: ${N} rows and ${idx.length} labels do not match`);
  const picked = neg(gather(logProbs, 1, new Tensor(Float32Array.from(idx), [N, 1]))).reshape([N]);
  const r = options.reduction ?? "mean";
  if (r === "mean") return mean(picked);
  if (r === "sum") return sum(picked);
  if (r === "none") return picked;
  throw new RangeError(`nllLoss: unknown reduction "${String(r)}"`);
}

/** Bits per character from a mean cross-entropy in nats per character: nats / ln 2. */
export function bitsPerChar(natsPerChar: number | Tensor): number {
  const v = typeof natsPerChar === "number" ? natsPerChar : natsPerChar.item();
  return v / Math.LN2;
}
