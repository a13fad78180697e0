/**
 * Checkpoints in the safetensors format: 8-byte little-endian header length, a JSON header mapping each tensor
 * name to { dtype: "F32", shape, data_offsets: [begin, end] } (offsets into the data section), then the raw
 * little-endian data. The model's description goes in the header's `__metadata__` (string values only, as the
 * format requires). Writes are atomic (temporary file, then rename); reads validate everything before
 * returning, so a bad file loads nothing.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";

/** A checkpoint as read from disk. */
export interface Checkpoint {
  /** Tensors by name. */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` (empty when absent). */
  metadata: Record<string, string>;
}

/** Writes named tensors (and string metadata) to `path` atomically. */
export function saveTensors(path: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new TypeError(`save: metadata "${k}" must be a string`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const n of names) {
    if (n === "__metadata__") throw new Error(`save: "__metadata__" is not a valid tensor name`);
    const t = tensors[n]!;
    if (!(t instanceof Tensor)) throw new TypeError(`save: "${n}" is not a Tensor`);
    header[n] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + t.size * 4] };
    offset += t.size * 4;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  // Pad the header with spaces to a multiple of 8 so the data section is aligned.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    for (const n of names) {
      const d = tensors[n]!.data;
      writeSync(fd, littleEndian(d));
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian(d: Float32Array): Uint8Array {
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (LE) return bytes;
  const out = new Uint8Array(d.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) view.setFloat32(i * 4, d[i]!, true);
  return out;
}

/** Reads a safetensors file of F32 tensors; throws naming the file and the defect if anything is wrong. */
export function loadTensors(path: string): Checkpoint {
  const bad = (what: string): never => {
    throw new Error(`load: ${path}: ${what}`);
  };
  const buf = readFileSync(path);
  if (buf.length < 8) bad(`truncated: ${buf.length} bytes, no 8-byte header length`);
  const hlen = buf.readBigUInt64LE(0);
  if (hlen > BigInt(buf.length - 8)) bad(`truncated: header length ${hlen} exceeds the ${buf.length - 8} bytes after it`);
  const n = Number(hlen);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  } catch (e) {
    bad(`corrupt header: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) bad("corrupt header: not a JSON object");
  const data = buf.subarray(8 + n);
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Object.values(v).some((s) => typeof s !== "string")) bad("__metadata__ must map names to strings");
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) bad(`tensor "${name}": entry is not an object`);
    if (e.dtype !== "F32") bad(`tensor "${name}": dtype ${JSON.stringify(e.dtype)} is not supported (only F32)`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}": invalid shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      bad(`tensor "${name}": invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [b, end] = off as [number, number];
    const count = (shape as number[]).reduce((a, d) => a * d, 1);
    if (end - b !== count * 4) bad(`tensor "${name}": data_offsets span ${end - b} bytes, shape needs ${count * 4}`);
    if (end > data.length) bad(`truncated: tensor "${name}" ends at byte ${end} of a ${data.length}-byte data section`);
    spans.push([b, end, name]);
    const out = new Float32Array(count);
    const view = new DataView(data.buffer, data.byteOffset + b, end - b);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    tensors[name] = new Tensor(out, shape as number[]);
  }
  spans.sort((p, q) => p[0] - q[0]);
  let at = 0;
  for (const [b, end, name] of spans) {
    if (b !== at) bad(`corrupt: tensor "${name}" starts at byte ${b}, expected ${at} (overlap or gap)`);
    at = end;
  }
  if (at !== data.length) bad(`corrupt: ${data.length - at} bytes after the last tensor`);
  return { tensors, metadata };
}

/**
 * Saves a model's parameters and buffers (its state dict) with `__metadata__` { format: "dropout-lab",
 * architecture: model.toString() } plus any extra metadata.
 */
export function save(model: Module, path: string, metadata: Record<string, string> = {}): void {
  saveTensors(path, model.stateDict(), { format: "dropout-lab", architecture: model.toString(), ...metadata });
}

/** Reads a checkpoint file (tensors and metadata); see `loadInto` to restore a model. */
export function load(path: string): Checkpoint {
  return loadTensors(path);
}

/**
 * Restores a model saved with `save`: the file's architecture must equal model.toString() and every name and
 * shape must match, or nothing is changed and the error names the file and the defect.
 */
export function loadInto(model: Module, path: string): Checkpoint {
  const ck = loadTensors(path);
  const arch = ck.metadata.architecture;
  if (arch !== undefined && arch !== model.toString()) {
    throw new Error(`load: ${path}: architecture differs from the model:\n${arch}\nvs\n${model.toString()}`);
  }
  try {
    model.loadStateDict(ck.tensors);
  } catch (e) {
    throw new Error(`load: ${path}: ${(e as Error).message}`);
  }
  return ck;
}
