/**
 * Multi-head self-attention block with the transformer's two dropouts: on the attention weights (after the
 * softmax) and on the residual branch before it is added back: y = x + drop(Wo·attention(x)).
 */
import { Key, nextKey, split } from "../random/keys.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { add, mul } from "../tensor/ops.js";
import { permute, reshape } from "../tensor/shapeops.js";
import { matmul, softmax } from "../tensor/layers.js";
import { Module } from "./module.js";
import { Linear } from "./layers.js";
import { Dropout } from "../dropout/base.js";
import { checkInt } from "./layers.js";

/** Options of `MultiHeadSelfAttention`. */
export interface AttentionOptions {
  /** Number of heads; must divide the model dimension (default 1). */
  numHeads?: number;
  /** Dropout rate on the attention weights (default 0). */
  attentionDropout?: number;
  /** Dropout rate on the block's output before the residual sum (default 0). */
  residualDropout?: number;
  /** Position t attends only to positions ≤ t (default false). */
  causal?: boolean;
  /** Key for the weights and the two dropout streams (default: the next key of the `manualSeed` stream). */
  key?: Key;
}

/** Self-attention over x [B, T, D] → [B, T, D], with a residual connection. */
export class MultiHeadSelfAttention extends Module {
  readonly numHeads: number;
  readonly causal: boolean;
  readonly query: Linear;
  readonly keyProj: Linear;
  readonly value: Linear;
  readonly out: Linear;
  /** Dropout on the attention weights [B, heads, T, T]; its `lastMask` shows which links were cut. */
  readonly attentionDropout: Dropout;
  /** Dropout on the residual branch. */
  readonly residualDropout: Dropout;
  /** The attention weights of the last forward pass, [B, heads, T, T] (before dropout). */
  lastAttention: Tensor | null = null;
  constructor(readonly dim: number, options: AttentionOptions = {}) {
    super();
    checkInt("MultiHeadSelfAttention", "dim", dim);
    this.numHeads = options.numHeads ?? 1;
    checkInt("MultiHeadSelfAttention", "numHeads", this.numHeads);
    if (dim % this.numHeads !== 0) throw new RangeError(`MultiHeadSelfAttention: numHeads ${this.numHeads} does not divide dim ${dim}`);
    this.causal = options.causal ?? false;
    const k = split(options.key ?? nextKey(), 6) as Key[];
    this.query = this.child("query", new Linear(dim, dim, { key: k[0]!, init: "xavier" }));
    this.keyProj = this.child("key", new Linear(dim, dim, { key: k[1]!, init: "xavier" }));
    this.value = this.child("value", new Linear(dim, dim, { key: k[2]!, init: "xavier" }));
    this.out = this.child("out", new Linear(dim, dim, { key: k[3]!, init: "xavier" }));
    this.attentionDropout = this.child("attentionDropout", new Dropout(options.attentionDropout ?? 0, { key: k[4]! }));
    this.residualDropout = this.child("residualDropout", new Dropout(options.residualDropout ?? 0, { key: k[5]! }));
  }
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) throw new Error(`MultiHeadSelfAttention: expected [B, T, ${this.dim}], got ${fmt(x.shape)}`);
    const [B, T] = x.shape as [number, number];
    const nh = this.numHeads;
    const dh = this.dim / nh;
    const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, dh]), [0, 2, 1, 3]);
    const q = heads(this.query.forward(x));
    const k = heads(this.keyProj.forward(x));
    const v = heads(this.value.forward(x));
    let scores = mul(matmul(q, permute(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
    if (this.causal) {
      const m = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -Infinity;
      scores = add(scores, new Tensor(m, [T, T]));
    }
    const att = softmax(scores, -1);
    this.lastAttention = att.detach();
    const ctx = matmul(this.attentionDropout.forward(att), v);
    const merged = reshape(permute(ctx, [0, 2, 1, 3]), [B, T, this.dim]);
    return add(x, this.residualDropout.forward(this.out.forward(merged)));
  }
  override extraRepr(): string {
    return `${this.dim}, numHeads=${this.numHeads}${this.causal ? ", causal" : ""}`;
  }
}
