/**
 * The Module base: a tree of modules owning named parameters (leaf tensors with requiresGrad) and buffers
 * (state that is saved but not trained, e.g. BatchNorm's running statistics). The training flag lives on
 * each module and `train()`/`eval()` set it for the whole subtree; there is no global mode.
 */
import * as backend from "../backend/index.js";
import { Tensor } from "../tensor/tensor.js";
import { isScoped } from "../tensor/pool.js";
import { fmt } from "../tensor/shape.js";

/** A module whose forward maps one tensor to one tensor (what `Sequential`, `fit` and `mcPredict` accept). */
export interface TensorModule extends Module {
  /** Maps the input batch to the output batch. */
  forward(x: Tensor): Tensor;
}

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /** Reject missing and unexpected names (default true); with false, only names present on both sides load. */
  strict?: boolean;
}

export abstract class Module {
  /** Whether the module is in training mode (dropout active, BatchNorm using batch statistics). */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** The module's computation (most modules map a Tensor to a Tensor; LSTM/GRU return outputs and states). */
  abstract forward(...args: never[]): unknown;

  /**
   * Registers a parameter (made a leaf that requires grad) under `name` and returns it: the tensor itself when
   * its storage is in the backend's memory already, else a copy there, so kernels and the optimizer use it in
   * place (callers keep the returned tensor).
   */
  protected param(name: string, t: Tensor): Tensor {
    // Storage from an open `tidy` scope would be given back when it closes: parameters take their own.
    if (!backend.isResident(t.data) || isScoped(t.data)) {
      const data = backend.allocate(t.size);
      if (backend.isResident(data)) {
        data.set(t.data);
        t = new Tensor(data, t.shape);
      }
    }
    t.requiresGrad = true;
    this.#params.set(name, t);
    return t;
  }
  /** Registers a buffer (saved in the state dict, not trained) and returns it. */
  protected buffer(name: string, t: Tensor): Tensor {
    if (isScoped(t.data)) t = new Tensor(t.data.slice(), t.shape);
    this.#buffers.set(name, t);
    return t;
  }
  /** Registers a child module and returns it. */
  protected child<M extends Module>(name: string, m: M): M {
    if (!(m instanceof Module)) throw new TypeError(`${this.constructor.name}: child "${name}" is not a Module`);
    this.#children.set(name, m);
    return m;
  }

  /** The direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }
  /** The direct children. */
  children(): Module[] {
    return [...this.#children.values()];
  }
  /** This module and every descendant, depth first, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }
  /** This module and every descendant. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }
  /** Every parameter of the subtree with its dotted name (PyTorch's names, e.g. "0.weight"). */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m.#params) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }
  /** Every parameter of the subtree. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  /** Every buffer of the subtree with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m.#buffers) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }

  /** Sets training mode on this module and all descendants; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /** Sets evaluation mode on this module and all descendants; returns this. */
  eval(): this {
    return this.train(false);
  }
  /** Zeroes the gradients of all parameters in place (PyTorch 1.13's default), so the next backward reuses their storage. */
  zeroGrad(): void {
    for (const p of this.parameters()) p._zeroGrad();
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /**
   * Copies values into the parameters and buffers. Every name and shape is checked before anything is copied,
   * so a mismatch leaves the module unchanged.
   */
  loadStateDict(state: Record<string, Tensor>, options: LoadStateDictOptions = {}): void {
    const { strict = true } = options;
    const own = this.stateDict();
    const errors: string[] = [];
    for (const [n, t] of Object.entries(own)) {
      const s = state[n];
      if (s === undefined) {
        if (strict) errors.push(`missing "${n}"`);
      } else if (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i])) {
        errors.push(`"${n}" has shape ${fmt(s.shape)}, expected ${fmt(t.shape)}`);
      }
    }
    if (strict) for (const n of Object.keys(state)) if (!(n in own)) errors.push(`unexpected "${n}"`);
    if (errors.length) throw new Error(`loadStateDict: ${errors.join("; ")}`);
    for (const [n, t] of Object.entries(own)) if (state[n]) t.data.set(state[n]!.data);
  }

  /** One line describing this module's own settings (children are listed by `toString`). */
  extraRepr(): string {
    return "";
  }
  /** PyTorch-style description of the tree, e.g. `Sequential(\n  (0): Linear(784, 800)\n ...)`. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return head + ")";
    const lines = kids.map(([n, c]) => `  (${n}): ${c.toString().replace(/\n/g, "\n  ")}`);
    return `${head}\n${lines.join("\n")}\n)`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
  /** Mime bundle for Jupyter displays. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/plain": this.toString() };
  }
}

/** Modules applied in order; the output of each is the input of the next. */
export class Sequential extends Module {
  /** The layers, in order. */
  readonly layers: TensorModule[];
  constructor(...layers: TensorModule[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m.forward(x);
    return x;
  }
}
