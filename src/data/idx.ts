/**
 * The IDX format of MNIST (LeCun et al.): magic 0x00 0x00 type ndim, ndim big-endian uint32 sizes, then the data
 * big-endian. Gzipped files (".gz" or a gzip signature) are accepted. Errors name the file and the defect.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** The element types of IDX (type byte → name). */
const TYPES: Record<number, { name: IdxType; size: number }> = {
  0x08: { name: "uint8", size: 1 },
  0x09: { name: "int8", size: 1 },
  0x0b: { name: "int16", size: 2 },
  0x0c: { name: "int32", size: 4 },
  0x0d: { name: "float32", size: 4 },
  0x0e: { name: "float64", size: 8 },
};

/** Element type of an IDX file. */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** An IDX array: its dimensions and values (uint8 files keep their bytes; other types become numbers). */
export interface IdxArray {
  /** Element type from the magic number. */
  type: IdxType;
  /** Dimensions from the header, outermost first (e.g. [60000, 28, 28]). */
  shape: number[];
  /** Values in row-major order. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Parses IDX bytes; `name` labels errors. */
export function parseIdx(bytes: Uint8Array, name = "<bytes>"): IdxArray {
  const bad = (what: string): never => {
    throw new Error(`readIdx: ${name}: ${what}`);
  };
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      bad(`corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) bad(`truncated: ${buf.length} bytes, no 4-byte magic number`);
  if (buf[0] !== 0 || buf[1] !== 0) bad(`bad magic number 0x${buf.readUInt32BE(0).toString(16).padStart(8, "0")} (must start with two zero bytes)`);
  const t = TYPES[buf[2]!] ?? bad(`unknown element type 0x${buf[2]!.toString(16)}`);
  const ndim = buf[3]!;
  if (ndim === 0) bad("zero dimensions");
  if (buf.length < 4 + 4 * ndim) bad(`truncated: header needs ${4 + 4 * ndim} bytes, file has ${buf.length}`);
  const shape = Array.from({ length: ndim }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  const need = start + count * t.size;
  if (buf.length < need) bad(`truncated: dimensions ${shape.join("×")} need ${need} bytes, file has ${buf.length}`);
  if (buf.length > need) bad(`${buf.length - need} unexpected bytes after the data of dimensions ${shape.join("×")}`);
  let data: IdxArray["data"];
  switch (t.name) {
    case "uint8": data = new Uint8Array(buf.subarray(start, need)); break;
    case "int8": data = new Int8Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + need)); break;
    case "int16": data = Int16Array.from({ length: count }, (_, i) => buf.readInt16BE(start + 2 * i)); break;
    case "int32": data = Int32Array.from({ length: count }, (_, i) => buf.readInt32BE(start + 4 * i)); break;
    case "float32": data = Float32Array.from({ length: count }, (_, i) => buf.readFloatBE(start + 4 * i)); break;
    case "float64": data = Float64Array.from({ length: count }, (_, i) => buf.readDoubleBE(start + 8 * i)); break;
  }
  return { type: t.name, shape, data };
}

/** Reads an IDX file (optionally gzipped). */
export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readIdx: ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(bytes, path);
}
