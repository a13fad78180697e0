/**
 * LSTM and GRU: cells and multi-layer sequence layers over [T, B, F] with PyTorch's gate order (LSTM i, f, g, o;
 * GRU r, z, n), weight layout and parameter names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0), so a
 * PyTorch state dict loads as is. The layers carry the recurrent regularizers as options: dropout between layers,
 * variational (Gal & Ghahramani) masks fixed over a sequence, recurrent dropout on the cell update (Semeniuta et
 * al.), and zoneout (Krueger et al.). Gate math is composed from engine ops.
 */
import { Key, foldIn, nextKey, split } from "../random/keys.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { add, mul, sigmoid, sub, tanh } from "../tensor/ops.js";
import { reshape, slice, stack } from "../tensor/shapeops.js";
import { dropout, linear, linearAddBlock, lstmCell } from "../tensor/layers.js";
import { accumulate, result } from "../tensor/tensor.js";
import { alloc, gradAlloc, release } from "../tensor/pool.js";
import { zeros } from "../tensor/creation.js";
import { Module } from "./module.js";
import { uniformInit } from "./init.js";
import { checkInt } from "./layers.js";
import { KeyStream, affine, checkRate, drawKeepMask, keepMask } from "./noise.js";

/** Options of the cells. */
export interface CellOptions {
  /** Learn biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Key for the initial weights, U(±1/sqrt(hidden)) as PyTorch (default: the next key of the `manualSeed` stream). */
  key?: Key;
}

/** Options of `LSTM` and `GRU`. */
export interface RecurrentOptions extends CellOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Dropout rate on each layer's outputs except the last layer's, fresh per unit and step (PyTorch's `dropout`). */
  dropout?: number;
  /**
   * Variational dropout (Gal & Ghahramani 2016): one mask per sequence and layer, reused at every step, on the
   * layer's input (`input`) and on the previous hidden state before the recurrent weights (`recurrent`).
   */
  variational?: VariationalOptions;
  /** Recurrent dropout (Semeniuta et al. 2016): a fresh mask per step on the candidate update (LSTM g, GRU n). */
  recurrentDropout?: number;
  /** Key of the masks' stream (default: the next key of the `manualSeed` stream at construction). */
  maskKey?: Key;
  /** Keep every mask of the last forward pass in `lastMasks` (default false). */
  recordMasks?: boolean;
}

/** Rates of variational dropout (Gal & Ghahramani 2016). */
export interface VariationalOptions {
  /** Rate of the per-sequence mask on the layer's input x_t (default 0). */
  input?: number;
  /** Rate of the per-sequence mask on h_{t−1} before the recurrent weights (default 0). */
  recurrent?: number;
}

/** Zoneout probabilities (Krueger et al. 2017). */
export interface ZoneoutOptions {
  /** Probability that a cell-state unit keeps its previous value at a step (LSTM only; default 0). */
  cell?: number;
  /** Probability that a hidden-state unit keeps its previous value at a step (default 0). */
  hidden?: number;
}

/** Options of `LSTM`. */
export interface LSTMOptions extends RecurrentOptions {
  /**
   * Zoneout (Krueger et al. 2017): each unit keeps its previous value with probability `cell` (for c) or
   * `hidden` (for h) per step; evaluation uses the expectation z·previous + (1 − z)·new.
   */
  zoneout?: ZoneoutOptions;
}

/** Options of `GRU`. */
export interface GRUOptions extends RecurrentOptions {
  /** Zoneout on the hidden state (Krueger et al. 2017); evaluation uses the expectation. */
  zoneout?: Omit<ZoneoutOptions, "cell">;
}

/** A recurrent layer's result. */
export interface RecurrentOutput {
  /** The last layer's hidden states at every step, [T, B, H]. */
  output: Tensor;
  /** Final hidden state of every layer, [numLayers, B, H]. */
  h: Tensor;
  /** Final cell state of every layer, [numLayers, B, H] (LSTM only). */
  c?: Tensor;
}

/** Initial state of a recurrent layer. */
export interface RecurrentState {
  /** Hidden state of every layer, [numLayers, B, H]. */
  h: Tensor;
  /** Cell state of every layer, [numLayers, B, H] (LSTM only). */
  c?: Tensor;
}

interface Weights {
  wih: Tensor;
  whh: Tensor;
  bih: Tensor | null;
  bhh: Tensor | null;
}

/**
 * a·m + b·(1 − m) for a fixed 0/1 mask m of the same shape, in one op: a where m is 1, else b; the gradient
 * goes to a where m is 1 and to b elsewhere.
 */
function mix(a: Tensor, b: Tensor, m: Tensor): Tensor {
  return mixBy(a, b, m.shape, () => m.data);
}

/**
 * mix with the mask from `mask()`, which the backward calls again (so a mask drawn from a key into a reused
 * array need not be kept between the passes).
 */
function mixBy(a: Tensor, b: Tensor, shape: readonly number[], mask: () => Float32Array): Tensor {
  const ad = a.data;
  const bd = b.data;
  const md = mask();
  const out = alloc(ad.length);
  for (let j = 0; j < out.length; j++) out[j] = md[j] === 1 ? ad[j]! : bd[j]!;
  return result(out, shape, "mix", [a, b], (g) => {
    const md = mask();
    for (const [t, keep] of [[a, 1], [b, 0]] as const) {
      if (!t.requiresGrad) continue;
      const gt = gradAlloc(g.length, false);
      for (let j = 0; j < g.length; j++) gt[j] = md[j] === keep ? g[j]! : 0;
      accumulate(t, gt, true);
    }
  });
}

/** The array zoneout masks are drawn into when they are not recorded (each use draws it again). */
let zoneScratch = new Float32Array(0);

/** One LSTM step from block t of the input projection xp [T, B, 4H]; returns [h, c] before zoneout. */
function lstmStep(xp: Tensor, t: number, h: Tensor, c: Tensor, w: Weights, H: number, gMask: Tensor | null): [Tensor, Tensor] {
  const gates = linearAddBlock(xp, t, h, w.whh, w.bhh);
  if (!gMask) {
    const hc = lstmCell(gates, c);
    // No backward reads the gates' values (lstmCell keeps its activations): the array serves the next step.
    release(gates.data);
    return hc;
  }
  const i = sigmoid(slice(gates, [null, [0, H]]));
  const f = sigmoid(slice(gates, [null, [H, 2 * H]]));
  let g = tanh(slice(gates, [null, [2 * H, 3 * H]]));
  const o = sigmoid(slice(gates, [null, [3 * H, 4 * H]]));
  if (gMask) g = mul(g, gMask);
  const cNew = add(mul(f, c), mul(i, g));
  return [mul(o, tanh(cNew)), cNew];
}

/** One GRU step from the input projection xp [B, 3H]; hIn is h after any recurrent mask. */
function gruStep(xp: Tensor, h: Tensor, hIn: Tensor, w: Weights, H: number, nMask: Tensor | null): Tensor {
  const gh = linear(hIn, w.whh, w.bhh);
  const r = sigmoid(add(slice(xp, [null, [0, H]]), slice(gh, [null, [0, H]])));
  const z = sigmoid(add(slice(xp, [null, [H, 2 * H]]), slice(gh, [null, [H, 2 * H]])));
  let n = tanh(add(slice(xp, [null, [2 * H, 3 * H]]), mul(r, slice(gh, [null, [2 * H, 3 * H]]))));
  if (nMask) n = mul(n, nMask);
  // (1 − z)·n + z·h = n + z·(h − n)
  return add(n, mul(z, sub(h, n)));
}

function makeWeights(register: (name: string, t: Tensor) => Tensor, suffix: string, gates: number, inF: number, H: number, bias: boolean, key: Key): Weights {
  const [k1, k2, k3, k4] = split(key, 4) as [Key, Key, Key, Key];
  const a = 1 / Math.sqrt(H);
  return {
    wih: register(`weight_ih${suffix}`, uniformInit(k1, [gates * H, inF], a)),
    whh: register(`weight_hh${suffix}`, uniformInit(k2, [gates * H, H], a)),
    bih: bias ? register(`bias_ih${suffix}`, uniformInit(k3, [gates * H], a)) : null,
    bhh: bias ? register(`bias_hh${suffix}`, uniformInit(k4, [gates * H], a)) : null,
  };
}

abstract class CellBase extends Module {
  protected readonly w: Weights;
  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, options: CellOptions) {
    super();
    checkInt(this.constructor.name, "inputSize", inputSize);
    checkInt(this.constructor.name, "hiddenSize", hiddenSize);
    this.w = makeWeights((n, t) => this.param(n, t), "", gates, inputSize, hiddenSize, options.bias ?? true, options.key ?? nextKey());
  }
  protected check(x: Tensor): void {
    if (x.ndim !== 2 || x.shape[1] !== this.inputSize) throw new Error(`${this.constructor.name}: expected input [B, ${this.inputSize}], got ${fmt(x.shape)}`);
  }
  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}`;
  }
}

/** One LSTM step: x [B, F] and state {h, c} ([B, H] each, zeros when omitted) → the next {h, c}. */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super(inputSize, hiddenSize, 4, options);
  }
  forward(x: Tensor, state?: { h: Tensor; c: Tensor }): { h: Tensor; c: Tensor } {
    this.check(x);
    const B = x.shape[0]!;
    const h = state?.h ?? zeros([B, this.hiddenSize]);
    const c = state?.c ?? zeros([B, this.hiddenSize]);
    const xp = linear(x, this.w.wih, this.w.bih);
    const [h1, c1] = lstmStep(reshape(xp, [1, ...xp.shape]), 0, h, c, this.w, this.hiddenSize, null);
    return { h: h1, c: c1 };
  }
}

/** One GRU step: x [B, F] and h [B, H] (zeros when omitted) → the next h. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super(inputSize, hiddenSize, 3, options);
  }
  forward(x: Tensor, h?: Tensor): Tensor {
    this.check(x);
    const h0 = h ?? zeros([x.shape[0]!, this.hiddenSize]);
    return gruStep(linear(x, this.w.wih, this.w.bih), h0, h0, this.w, this.hiddenSize, null);
  }
}

// Key domains of the masks within one forward pass: foldIn(foldIn(foldIn(passKey, layer), kind), step).
// Recorded under "l<layer>.<name>".
const KIND = { input: 0, recurrent: 1, between: 2, update: 3, "zoneout.c": 4, "zoneout.h": 5 } as const;

abstract class RecurrentBase extends Module {
  /** The masks' random stream: one key per training forward pass. */
  readonly stream: KeyStream;
  readonly numLayers: number;
  /** Rate of dropout between layers. */
  dropout: number;
  /** Variational rates. */
  variational: Required<VariationalOptions>;
  /** Semeniuta recurrent dropout rate. */
  recurrentDropout: number;
  /** Zoneout probabilities. */
  zoneout: Required<ZoneoutOptions>;
  /** Whether to keep the masks of the last forward pass. */
  recordMasks: boolean;
  /**
   * The masks of the last training forward pass by name, each a list (one entry, or one per step): "l0.input",
   * "l0.recurrent" (variational, [B, F] and [B, H]), "l0.between" ([T, B, H]), "l0.update" (per step),
   * "l0.zoneout.c" and "l0.zoneout.h" (per step, 1 = kept the previous value). Values are 1 for kept units.
   */
  lastMasks: Record<string, Tensor[]> = {};
  protected readonly layers: Weights[] = [];
  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, options: LSTMOptions) {
    super();
    const name = this.constructor.name;
    checkInt(name, "inputSize", inputSize);
    checkInt(name, "hiddenSize", hiddenSize);
    this.numLayers = options.numLayers ?? 1;
    checkInt(name, "numLayers", this.numLayers);
    const keys = split(options.key ?? nextKey(), this.numLayers);
    for (let l = 0; l < this.numLayers; l++) {
      this.layers.push(makeWeights((n, t) => this.param(n, t), `_l${l}`, gates, l === 0 ? inputSize : hiddenSize, hiddenSize, options.bias ?? true, keys[l]!));
    }
    this.dropout = options.dropout ?? 0;
    this.variational = { input: options.variational?.input ?? 0, recurrent: options.variational?.recurrent ?? 0 };
    this.recurrentDropout = options.recurrentDropout ?? 0;
    this.zoneout = { cell: options.zoneout?.cell ?? 0, hidden: options.zoneout?.hidden ?? 0 };
    for (const [k, v] of [["dropout", this.dropout], ["variational.input", this.variational.input], ["variational.recurrent", this.variational.recurrent], ["recurrentDropout", this.recurrentDropout]] as const) {
      checkRate(`${name} ${k}`, v);
    }
    checkRate(`${name} zoneout.cell`, this.zoneout.cell, true);
    checkRate(`${name} zoneout.hidden`, this.zoneout.hidden, true);
    this.stream = new KeyStream(options.maskKey);
    this.recordMasks = options.recordMasks ?? false;
  }
  protected checkInput(x: Tensor): [number, number] {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) throw new Error(`${this.constructor.name}: expected input [T, B, ${this.inputSize}], got ${fmt(x.shape)}`);
    return [x.shape[0]!, x.shape[1]!];
  }
  protected initial(s: Tensor | undefined, B: number, what: string): Tensor[] {
    const H = this.hiddenSize;
    if (!s) return Array.from({ length: this.numLayers }, () => zeros([B, H]));
    if (s.ndim !== 3 || s.shape[0] !== this.numLayers || s.shape[1] !== B || s.shape[2] !== H) {
      throw new Error(`${this.constructor.name}: initial ${what} must be [${this.numLayers}, ${B}, ${H}], got ${fmt(s.shape)}`);
    }
    return Array.from({ length: this.numLayers }, (_, l) => reshape(slice(s, [[l, l + 1]]), [B, H]));
  }
  /** A mask for (layer, kind, step) of shape, 1/(1−p)-scaled when `scaled`; recorded unscaled. */
  protected mask(pass: Key, l: number, kind: keyof typeof KIND, t: number, shape: number[], p: number, scaled: boolean): Tensor {
    const k = foldIn(foldIn(foldIn(pass, l), KIND[kind]), t);
    const m = keepMask(k, shape, p, 1);
    if (this.recordMasks) (this.lastMasks[`l${l}.${kind}`] ??= []).push(m);
    return scaled ? new Tensor(affine(m.data, 1 / (1 - p)), shape) : m;
  }
  /** Runs every layer; `step` advances one layer by one step and returns its new states. */
  protected run(x: Tensor, states: Tensor[][], step: (l: number, xp: Tensor, t: number, st: Tensor[], hIn: Tensor, update: Tensor | null) => Tensor[]): { output: Tensor; finals: Tensor[][] } {
    const [T, B] = this.checkInput(x);
    const H = this.hiddenSize;
    const training = this.training;
    const pass = training ? this.stream.next() : null;
    this.lastMasks = {};
    const finals: Tensor[][] = [];
    let seq = x;
    for (let l = 0; l < this.numLayers; l++) {
      const w = this.layers[l]!;
      const F = seq.shape[2]!;
      if (pass && this.variational.input > 0) {
        seq = mul(seq, reshape(this.mask(pass, l, "input", 0, [B, F], this.variational.input, true), [1, B, F]));
      }
      const xp = linear(seq, w.wih, w.bih);
      const recMask = pass && this.variational.recurrent > 0 ? this.mask(pass, l, "recurrent", 0, [B, H], this.variational.recurrent, true) : null;
      let st = states.map((s) => s[l]!);
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const h = st[0]!;
        const hIn = recMask ? mul(h, recMask) : h;
        const update = pass && this.recurrentDropout > 0 ? this.mask(pass, l, "update", t, [B, H], this.recurrentDropout, true) : null;
        const next = step(l, xp, t, st, hIn, update);
        st = next.map((n, i) => this.zone(pass, l, t, i, st[i]!, n, [B, H]));
        outs.push(st[0]!);
      }
      // The input projection was only read by the steps' forward passes (its backward and theirs use other
      // values), so its large array goes back to the pool for the next pass.
      release(xp.data);
      finals.push(st);
      seq = stack(outs, 0);
      if (pass && l < this.numLayers - 1 && this.dropout > 0) {
        const k = foldIn(foldIn(foldIn(pass, l), KIND.between), 0);
        if (this.recordMasks) this.lastMasks[`l${l}.between`] = [keepMask(k, seq.shape, this.dropout, 1)];
        seq = dropout(seq, this.dropout, { training: true, key: k });
      }
    }
    return { output: seq, finals };
  }
  /** Zoneout of state i (0: h, 1: c) between its previous and new value. */
  private zone(pass: Key | null, l: number, t: number, i: number, prev: Tensor, next: Tensor, shape: number[]): Tensor {
    const z = i === 0 ? this.zoneout.hidden : this.zoneout.cell;
    if (z === 0) return next;
    if (!pass) return add(mul(prev, z), mul(next, 1 - z));
    // keepMask draws "kept" with probability 1 − p, so rate 1 − z gives d = 1 (keep previous) with probability z.
    const kind = i === 0 ? "zoneout.h" : "zoneout.c";
    if (this.recordMasks) return mix(prev, next, this.mask(pass, l, kind, t, shape, 1 - z, false));
    // Unrecorded, the mask is drawn from its key into a reused array, again for the backward pass.
    const k = foldIn(foldIn(foldIn(pass, l), KIND[kind]), t);
    const n = prev.size;
    return mixBy(prev, next, shape, () => {
      if (zoneScratch.length < n) zoneScratch = new Float32Array(n);
      return drawKeepMask(k, 1 - z, 1, zoneScratch.subarray(0, n));
    });
  }
  override extraRepr(): string {
    const extra: string[] = [];
    if (this.numLayers > 1) extra.push(`numLayers=${this.numLayers}`);
    if (this.dropout) extra.push(`dropout=${this.dropout}`);
    if (this.variational.input || this.variational.recurrent) extra.push(`variational={input: ${this.variational.input}, recurrent: ${this.variational.recurrent}}`);
    if (this.recurrentDropout) extra.push(`recurrentDropout=${this.recurrentDropout}`);
    if (this.zoneout.cell || this.zoneout.hidden) extra.push(`zoneout={cell: ${this.zoneout.cell}, hidden: ${this.zoneout.hidden}}`);
    return [`${this.inputSize}, ${this.hiddenSize}`, ...extra].join(", ");
  }
}

/** Multi-layer LSTM over x [T, B, F]; returns the last layer's outputs and every layer's final h and c. */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super(inputSize, hiddenSize, 4, options);
  }
  forward(x: Tensor, state?: RecurrentState): RecurrentOutput {
    const B = this.checkInput(x)[1];
    const H = this.hiddenSize;
    const h0 = this.initial(state?.h, B, "h");
    const c0 = this.initial(state?.c, B, "c");
    const { output, finals } = this.run(x, [h0, c0], (l, xp, t, st, hIn, update) => {
      const w = this.layers[l]!;
      return lstmStep(xp, t, hIn, st[1]!, w, H, update);
    });
    return { output, h: stack(finals.map((f) => f[0]!), 0), c: stack(finals.map((f) => f[1]!), 0) };
  }
}

/** Multi-layer GRU over x [T, B, F]; returns the last layer's outputs and every layer's final h. */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    super(inputSize, hiddenSize, 3, options);
  }
  forward(x: Tensor, state?: RecurrentState): RecurrentOutput {
    const B = this.checkInput(x)[1];
    const h0 = this.initial(state?.h, B, "h");
    const { output, finals } = this.run(x, [h0], (l, xp, t, st, hIn, update) => {
      const xt = reshape(slice(xp, [[t, t + 1]]), xp.shape.slice(1));
      return [gruStep(xt, st[0]!, hIn, this.layers[l]!, this.hiddenSize, update)];
    });
    return { output, h: stack(finals.map((f) => f[0]!), 0) };
  }
}
