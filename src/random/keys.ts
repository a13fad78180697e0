/**
 * Keys over Philox4x32-10, in the style of JAX: a key names a stream; `split` and `foldIn` derive new keys
 * from the split (1) and foldIn (2) domains of a key's stream, so derived streams never overlap the sampling
 * domain (0) of their parent.
 */
import { DOMAIN_FOLD, DOMAIN_SPLIT, philox4x32 } from "./philox.js";

/** An immutable pair of uint32 words naming one random stream. */
export class Key {
  readonly k0: number;
  readonly k1: number;
  constructor(k0: number, k1: number) {
    this.k0 = k0 >>> 0;
    this.k1 = k1 >>> 0;
    Object.freeze(this);
  }
  /** `Key(0x0000002a, 0x00000000)`. */
  toString(): string {
    const h = (w: number) => "0x" + w.toString(16).padStart(8, "0");
    return `Key(${h(this.k0)}, ${h(this.k1)})`;
  }
  /** The two words, e.g. for saving. */
  toJSON(): [number, number] {
    return [this.k0, this.k1];
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function checkKey(k: unknown, op: string): asserts k is Key {
  if (!(k instanceof Key)) throw new TypeError(`${op}: expected a Key, got ${String(k)}`);
}

/**
 * The key of a seed: an integer with |seed| < 2^53. Word k0 holds its low 32 bits and k1 its high bits
 * (two's complement over 64 bits for negative seeds).
 */
export function key(seed: number): Key {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`key: seed must be a safe integer, got ${seed}`);
  const u = BigInt.asUintN(64, BigInt(seed));
  return new Key(Number(u & 0xffffffffn), Number(u >> 32n));
}

/** Word pair (2i, 2i+1) of the key's stream in a domain: block i/2, words (i mod 2)·2 and +1. */
function derive(k: Key, domain: number, i: number): Key {
  const out = new Uint32Array(4);
  const b = Math.floor(i / 2);
  philox4x32(k.k0, k.k1, b >>> 0, Math.floor(b / 0x100000000) >>> 0, domain, 0, out);
  const w = (i % 2) * 2;
  return new Key(out[w]!, out[w + 1]!);
}

/** n new keys: key i is words 2i and 2i+1 of the split-domain stream of `k`. */
export function split(k: Key, n = 2): Key[] {
  checkKey(k, "split");
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`split: n must be a non-negative integer, got ${n}`);
  return Array.from({ length: n }, (_, i) => derive(k, DOMAIN_SPLIT, i));
}

/** The key for `data` (an integer in [0, 2^52)): words 2·data and 2·data+1 of the foldIn-domain stream of `k`. */
export function foldIn(k: Key, data: number): Key {
  checkKey(k, "foldIn");
  if (!Number.isSafeInteger(data) || data < 0 || data >= 2 ** 52) {
    throw new RangeError(`foldIn: data must be an integer in [0, 2^52), got ${data}`);
  }
  return derive(k, DOMAIN_FOLD, data);
}

let defaultKey = key(0);
let counter = 0;

/** Resets the default key stream used when a sampler is called without a key (PyTorch's `manual_seed`). */
export function manualSeed(seed: number): void {
  defaultKey = key(seed);
  counter = 0;
}

/** Splits optional-key arguments: (key, ...rest) or (...rest) with the default stream's next key. */
export function keyed<R extends unknown[]>(args: [Key, ...R] | R): [Key, R] {
  return args[0] instanceof Key ? [args[0], args.slice(1) as R] : [nextKey(), args as R];
}

/** The next key of the default stream: foldIn(key(seed), 0), foldIn(key(seed), 1), ... (seed 0 until `manualSeed`). */
export function nextKey(): Key {
  return foldIn(defaultKey, counter++);
}
