/**
 * LSTM and GRU: cells and multi-layer sequence layers over [T, B, F] with PyTorch's gate order (LSTM i, f, g, o;
 * GRU r, z, n), weight layout and parameter names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0), so a
 * PyTorch state dict loads as is. The layers carry the recurrent regularizers as options: dropout between layers,
 * variational (Gal & Ghahramani) masks fixed over a sequence, recurrent dropout on the cell update (Semeniuta et
 * al.), and zoneout (Krueger et al.). The LSTM's gate math and its regularizers run in the backend's fused cell
 * (one call per step each way); the GRU's is composed from engine ops.
 */
import { Key, foldIn, nextKey, split } from "../random/keys.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt, sizeOf } from "../tensor/shape.js";
import * as backend from "../backend/index.js";
import { add, mul, sigmoid, sub, tanh } from "../tensor/ops.js";
import { reshape, slice, stack } from "../tensor/shapeops.js";
import { dropout, linear, linearAddBlock, lstmCell } from "../tensor/layers.js";
import { accumulate, gradBuffer, result } from "../tensor/tensor.js";
import { alloc, gradAlloc, release } from "../tensor/pool.js";
import { zeros } from "../tensor/creation.js";
import { Module } from "./module.js";
import { uniformInit } from "./init.js";
import { checkInt } from "./layers.js";
import { KeyStream, checkRate, drawKeepMask, keepMask } from "./noise.js";

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

/** Zeros in the backend's memory (read in place), the input of the mask draws. */
let maskZeros = new Float32Array(0);

/** Draws keepMask(k, p)'s units times `scale` into d and returns it. */
function drawInto(k: Key, p: number, scale: number, d: Float32Array): Float32Array {
  const n = d.length;
  if (maskZeros.length < n) maskZeros = backend.allocate(n);
  // The fused dropout kernel draws by keepMask's rule and writes the scale where kept into d; its other
  // output, the zero input times the mask, goes over the input, which stays zero.
  const zero = maskZeros.subarray(0, n);
  backend.dropout(k.k0, k.k1, 0, 1 - p, scale, zero, zero, d);
  return d;
}

/** The array zoneout masks are drawn into when they are not recorded (each use draws it again). */
let zoneScratch = new Float32Array(0);

/** One LSTM step from block t of the input projection xp [T, B, 4H]; returns [h, c]. */
function lstmStep(xp: Tensor, t: number, h: Tensor, c: Tensor, w: Weights): [Tensor, Tensor] {
  const gates = linearAddBlock(xp, t, h, w.whh, w.bhh);
  const hc = lstmCell(gates, c);
  // No backward reads the gates' values (lstmCell keeps its activations): the array serves the next step.
  release(gates.data);
  return hc;
}

/** The masks of one training step of the fused LSTM cell, [B, H] each (see backend.lstmForward). */
interface StepMasks {
  /** Scaled keep mask on the candidate g (recurrent dropout). */
  g?: Float32Array;
  /** Zoneout of c and h: 1 keeps the previous value. */
  zc?: Float32Array;
  zh?: Float32Array;
  /** Variational recurrent mask (scaled): the cell also returns hm = h·v, the next step's recurrent input. */
  v?: Float32Array;
}

/**
 * One LSTM step with its masks in the backend's fused cell: returns [h, c] after zoneout, and hm with a
 * variational mask. One node holds every output; h, c and hm are views whose gradients land in its slices.
 * The backward takes the same masks from `again()`.
 */
function maskedCell(gates: Tensor, cPrev: Tensor, hPrev: Tensor, m: StepMasks, again: () => StepMasks): Tensor[] {
  const [B, H] = cPrev.shape as [number, number];
  const n = B * H;
  const parts = m.v ? 3 : 2;
  const act = alloc(4 * n);
  // The outputs, then (with zoneout on c, whose output then differs from it) the new c the backward needs.
  const out = alloc((m.zc ? parts + 1 : parts) * n);
  const view = (i: number) => out.subarray(i * n, (i + 1) * n);
  const cNew = view(m.zc ? parts : 1);
  backend.lstmForward(gates.data, cPrev.data, cNew, view(0), act, B, H, {
    g: m.g, zc: m.zc, cOut: m.zc ? view(1) : undefined, zh: m.zh, hPrev: m.zh ? hPrev.data : undefined, v: m.v, hm: m.v ? view(2) : undefined,
  });
  const parents = m.zh ? [gates, cPrev, hPrev] : [gates, cPrev];
  const all = result(out.subarray(0, parts * n), [parts, B, H], "lstmCell", parents, (g) => {
    const dGates = gradAlloc(4 * n, false);
    const dcPrev = gradAlloc(n, false);
    const dhPrev = m.zh ? gradAlloc(n, false) : undefined;
    const m2 = again();
    backend.lstmBackward(act, cPrev.data, cNew, g.subarray(0, n), g.subarray(n, 2 * n), dGates, dcPrev, B, H, {
      g: m2.g, zc: m2.zc, zh: m2.zh, dhPrev, v: m2.v, dhm: m.v ? g.subarray(2 * n) : undefined,
    });
    accumulate(gates, dGates, true);
    accumulate(cPrev, dcPrev, true);
    if (dhPrev) accumulate(hPrev, dhPrev, true);
  });
  return Array.from({ length: parts }, (_, i) => result(view(i), [B, H], "lstmCell", [all], (g) => {
    const d = gradBuffer(all).subarray(i * n, (i + 1) * n);
    for (let j = 0; j < n; j++) d[j] += g[j]!;
  }));
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
    const [h1, c1] = lstmStep(reshape(xp, [1, ...xp.shape]), 0, h, c, this.w);
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

function maskKey(pass: Key, l: number, kind: keyof typeof KIND, t: number): Key {
  return foldIn(foldIn(foldIn(pass, l), KIND[kind]), t);
}

/** The masks of one layer and kind for every step of a sequence, and the pass that drew them. */
interface MaskBuffer {
  data: Float32Array;
  pass: Key;
}

/** What the steps of one layer share in a forward pass. */
interface LayerPass {
  /** The pass's key (null in evaluation). */
  pass: Key | null;
  /** The layer. */
  l: number;
  /** The variational recurrent mask (scaled), or null. */
  recMask: Tensor | null;
  /** [B, H]. */
  shape: number[];
}

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
  /**
   * The keep mask of (layer, kind, step) of shape, 1/(1−p)-scaled when `scaled`, drawn into `d` (a new array
   * by default); recorded unscaled.
   */
  protected draw(pass: Key, l: number, kind: keyof typeof KIND, t: number, shape: number[], p: number, scaled: boolean, d = new Float32Array(sizeOf(shape))): Float32Array {
    drawInto(maskKey(pass, l, kind, t), p, scaled ? 1 / (1 - p) : 1, d);
    if (this.recordMasks) (this.lastMasks[`l${l}.${kind}`] ??= []).push(new Tensor(d.map((v) => (v === 0 ? 0 : 1)), shape));
    return d;
  }
  /** draw's mask as a tensor. */
  protected mask(pass: Key, l: number, kind: keyof typeof KIND, t: number, shape: number[], p: number, scaled: boolean): Tensor {
    return new Tensor(this.draw(pass, l, kind, t, shape, p, scaled), shape);
  }
  /** Runs every layer; `step` advances layer lp.l by one step from its states st and returns the new states. */
  protected run(x: Tensor, states: Tensor[][], step: (lp: LayerPass, xp: Tensor, t: number, st: Tensor[]) => Tensor[]): { output: Tensor; finals: Tensor[][] } {
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
      const lp: LayerPass = { pass, l, recMask, shape: [B, H] };
      let st = states.map((s) => s[l]!);
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        st = step(lp, xp, t, st);
        outs.push(st[0]!);
      }
      // The input projection was only read by the steps' forward passes (its backward and theirs use other
      // values), so its large array goes back to the pool for the next pass.
      release(xp.data);
      finals.push(st);
      seq = stack(outs, 0);
      if (pass && l < this.numLayers - 1 && this.dropout > 0) {
        const k = maskKey(pass, l, "between", 0);
        if (this.recordMasks) this.lastMasks[`l${l}.between`] = [keepMask(k, seq.shape, this.dropout, 1)];
        seq = dropout(seq, this.dropout, { training: true, key: k });
      }
    }
    return { output: seq, finals };
  }
  /** Zoneout of state i (0: h, 1: c) between its previous and new value. */
  protected zone(pass: Key | null, l: number, t: number, i: number, prev: Tensor, next: Tensor, shape: number[]): Tensor {
    const z = i === 0 ? this.zoneout.hidden : this.zoneout.cell;
    if (z === 0) return next;
    if (!pass) return add(mul(prev, z), mul(next, 1 - z));
    // keepMask draws "kept" with probability 1 − p, so rate 1 − z gives d = 1 (keep previous) with probability z.
    const kind = i === 0 ? "zoneout.h" : "zoneout.c";
    if (this.recordMasks) return mix(prev, next, this.mask(pass, l, kind, t, shape, 1 - z, false));
    // Unrecorded, the mask is drawn from its key into a reused array, again for the backward pass.
    const k = maskKey(pass, l, kind, t);
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
  /** Per layer and mask kind, the masks of every step of the last training pass, in the backend's memory. */
  readonly #maskBuffers = new Map<string, MaskBuffer>();
  /** The buffer of (layer, kind) with at least n floats, claimed by `pass` at step 0. */
  private maskBuffer(l: number, kind: string, n: number, pass: Key, t: number): MaskBuffer {
    const name = `${l}.${kind}`;
    let buf = this.#maskBuffers.get(name);
    if (!buf || buf.data.length < n) this.#maskBuffers.set(name, (buf = { data: backend.allocate(n), pass }));
    if (t === 0) buf.pass = pass;
    return buf;
  }
  forward(x: Tensor, state?: RecurrentState): RecurrentOutput {
    const [T, B] = this.checkInput(x);
    const h0 = this.initial(state?.h, B, "h");
    const c0 = this.initial(state?.c, B, "c");
    const { cell: zc, hidden: zh } = this.zoneout;
    const rd = this.recurrentDropout;
    const n = B * this.hiddenSize;
    const { output, finals } = this.run(x, [h0, c0], (lp, xp, t, st) => {
      const { pass, l, recMask, shape } = lp;
      const w = this.layers[l]!;
      const [h, c] = st as [Tensor, Tensor];
      if (!pass || !(recMask || rd > 0 || zc > 0 || zh > 0)) {
        const [h1, c1] = lstmStep(xp, t, h, c, w);
        return [this.zone(pass, l, t, 0, h, h1, shape), this.zone(pass, l, t, 1, c, c1, shape)];
      }
      // Training with masks: the fused cell applies them; with a variational mask, the previous step's cell
      // returned h·mask as its third state.
      const hIn = recMask ? (t === 0 ? mul(h, recMask) : st[2]!) : h;
      const gates = linearAddBlock(xp, t, hIn, w.whh, w.bhh);
      // The per-step masks go into the layer's buffers, where the backward finds them unless a later pass
      // has drawn over them (then it draws them again from their keys).
      const kinds = [["update", rd, true, rd > 0], ["zoneout.h", 1 - zh, false, zh > 0], ["zoneout.c", 1 - zc, false, zc > 0]] as const;
      const views = kinds.map(([kind, p, scaled, on]) => {
        if (!on) return undefined;
        const buf = this.maskBuffer(l, kind, T * n, pass, t);
        return { buf, data: buf.data, d: this.draw(pass, l, kind, t, shape, p, scaled, buf.data.subarray(t * n, (t + 1) * n)) };
      });
      const masks = (ds: (Float32Array | undefined)[]): StepMasks => ({ g: ds[0], zh: ds[1], zc: ds[2], v: recMask?.data });
      const next = maskedCell(gates, c, h, masks(views.map((v) => v?.d)), () => masks(views.map((v, i) => {
        if (!v) return undefined;
        if (v.buf.pass === pass && v.buf.data === v.data) return v.d;
        const [kind, p, scaled] = kinds[i]!;
        return drawInto(maskKey(pass, l, kind, t), p, scaled ? 1 / (1 - p) : 1, new Float32Array(n));
      })));
      release(gates.data);
      return next;
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
    const { output, finals } = this.run(x, [h0], ({ pass, l, recMask, shape }, xp, t, st) => {
      const h = st[0]!;
      const hIn = recMask ? mul(h, recMask) : h;
      const update = pass && this.recurrentDropout > 0 ? this.mask(pass, l, "update", t, shape, this.recurrentDropout, true) : null;
      const xt = reshape(slice(xp, [[t, t + 1]]), xp.shape.slice(1));
      return [this.zone(pass, l, t, 0, h, gruStep(xt, h, hIn, this.layers[l]!, this.hiddenSize, update), shape)];
    });
    return { output, h: stack(finals.map((f) => f[0]!), 0) };
  }
}
