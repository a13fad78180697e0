/**
 * The IDX format of the MNIST files (LeCun et al.): bytes 0–1 are zero, byte 2 is the element type, byte 3
 * the number of dimensions d; then d big-endian uint32 sizes, then the elements, big-endian, row-major.
 * Gzip-compressed files (as Debian ships Fashion-MNIST) are recognised by their magic bytes 1f 8b.
 */
import { DataError, count } from "./errors.js";
import { gunzipIfGzip, readMaybeGzip } from "./files.js";

/** Element types of IDX files: type code and bytes per element. */
const TYPES = {
  uint8: { code: 0x08, size: 1 },
  int8: { code: 0x09, size: 1 },
  int16: { code: 0x0b, size: 2 },
  int32: { code: 0x0c, size: 4 },
  float32: { code: 0x0d, size: 4 },
  float64: { code: 0x0e, size: 8 },
} as const;

/** The element type of an IDX file. */
export type IdxType = keyof typeof TYPES;

const BY_CODE = new Map(Object.entries(TYPES).map(([name, t]) => [t.code as number, name as IdxType]));

/** A decoded IDX file. */
export interface IdxArray {
  /** The file it came from (or the name given to `parseIdx`). */
  file: string;
  type: IdxType;
  /** Sizes, outermost first. */
  dims: number[];
  /** The elements in row-major order (host byte order). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Decodes IDX bytes (gzip accepted); `file` names them in errors. */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  const bytes = gunzipIfGzip(raw, file);
  if (bytes.length < 4) throw new DataError(file, `is ${count(bytes.length)} bytes, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(file, `has bad IDX magic 0x${magic.toString(16).padStart(8, "0")} (the first two bytes must be zero)`);
  }
  const type = BY_CODE.get(bytes[2]!);
  if (type === undefined) throw new DataError(file, `has unknown IDX element type 0x${bytes[2]!.toString(16).padStart(2, "0")}`);
  const ndim = bytes[3]!;
  if (ndim === 0) throw new DataError(file, "has an IDX header of 0 dimensions");
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new DataError(file, `is ${count(bytes.length)} bytes, too short for an IDX header of ${ndim} dimensions (${header} bytes)`);
  }
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const expected = header + n * TYPES[type].size;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? "truncated" : `${count(bytes.length - expected)} trailing bytes`;
    throw new DataError(
      file,
      `is ${count(bytes.length)} bytes, expected ${count(expected)} for ${dims.join("×")} ${type} (${why})`,
    );
  }
  return { file, type, dims, data: decode(view, header, n, type) };
}

function decode(view: DataView, at: number, n: number, type: IdxType): IdxArray["data"] {
  switch (type) {
    case "uint8":
      return new Uint8Array(view.buffer, view.byteOffset + at, n).slice();
    case "int8":
      return new Int8Array(view.buffer, view.byteOffset + at, n).slice();
    case "int16": {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i);
      return out;
    }
    case "int32": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i);
      return out;
    }
    case "float32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i);
      return out;
    }
    case "float64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i);
      return out;
    }
  }
}

/** Reads and decodes an IDX file (plain or gzip). Every defect is a DataError naming the file. */
export function readIdx(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/** Encodes an IDX file (big-endian), e.g. to write test fixtures or exports. */
export function encodeIdx(type: IdxType, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const { code, size } = TYPES[type];
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new RangeError(`encodeIdx: ${data.length} values do not fill ${dims.join("×")}`);
  const out = new Uint8Array(4 + 4 * dims.length + n * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const at = 4 + 4 * dims.length;
  const put = {
    uint8: (i: number, v: number) => view.setUint8(at + i, v),
    int8: (i: number, v: number) => view.setInt8(at + i, v),
    int16: (i: number, v: number) => view.setInt16(at + 2 * i, v),
    int32: (i: number, v: number) => view.setInt32(at + 4 * i, v),
    float32: (i: number, v: number) => view.setFloat32(at + 4 * i, v),
    float64: (i: number, v: number) => view.setFloat64(at + 8 * i, v),
  }[type];
  for (let i = 0; i < n; i++) put(i, data[i]!);
  return out;
}
