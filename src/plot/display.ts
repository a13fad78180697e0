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

/** The bundle an object displays with (anything with the display symbol: plot objects, tensors, modules). */
function bundle(obj: unknown, who: string): Record<string, unknown> {
  const method = (obj as { [DISPLAY]?: unknown } | null)?.[DISPLAY];
  if (typeof method !== "function") throw new TypeError(`${who}: expected an object with [Symbol.for("Jupyter.display")]()`);
  return method.call(obj) as Record<string, unknown>;
}

/** The raw SVG document an object displays (its bundle's `image/svg+xml`): for `tslab.display.svg`, files, Deno. */
export function svg(obj: unknown): string {
  const b = bundle(obj, "plot.svg");
  const v = b["image/svg+xml"];
  if (typeof v !== "string") throw new Error(`plot.svg: this object shows no SVG (it offers ${Object.keys(b).join(", ")})`);
  return v;
}

/** The PNG bytes an object displays (its bundle's `image/png`, base64-decoded): for `tslab.display.png`, files. */
export function png(obj: unknown): Uint8Array {
  const b = bundle(obj, "plot.png");
  const v = b["image/png"];
  if (typeof v !== "string") throw new Error(`plot.png: this object shows no PNG (it offers ${Object.keys(b).join(", ")})`);
  return new Uint8Array(Buffer.from(v, "base64"));
}
