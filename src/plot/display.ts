/** The one protocol between the library and any Jupyter kernel (ours, Deno's): a method under this symbol. */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A mime bundle: mime type → data. "text/plain" is always present. Binary data (PNG) is base64. */
export interface MimeBundle {
  "text/plain": string;
  [mime: string]: unknown;
}

/** Anything a kernel can show. */
export interface Displayable {
  [DISPLAY](): MimeBundle;
}

/** Base for every plot object: `toString()` (and Node's `util.inspect`, so consoles and REPLs) give the
 * plain-text form. */
export abstract class Display implements Displayable {
  abstract [DISPLAY](): MimeBundle;
  toString(): string {
    return this[DISPLAY]()["text/plain"];
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
