/** Reading data files: plain or gzip, with errors that name the file. */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";

/** Bytes of a file, gunzipped when they start with the gzip magic. */
export function readMaybeGzip(file: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return gunzipIfGzip(bytes, file);
}

/** `bytes` gunzipped when they start with 1f 8b, else `bytes` itself; bad gzip data is a DataError. */
export function gunzipIfGzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataError(file, `holds bad gzip data (${(e as Error).message})`);
  }
}
