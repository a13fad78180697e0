/**
 * Mime bundles for values shown in a notebook: the display symbol, PNG/JPEG bytes, SVG strings, the
 * html/svg/md tagged helpers, and text/plain (util.inspect without colours) for everything.
 */
import { inspect } from "node:util";
import type { MimeBundle } from "./types.js";

/** Objects with this method are displayed with the mime bundle it returns. */
export const DISPLAY_SYMBOL = Symbol.for("Jupyter.display");

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** `util.inspect` that never throws (proxies, throwing getters or custom inspectors). */
export function safeInspect(value: unknown): string {
  try {
    return inspect(value, { colors: false });
  } catch (error) {
    try {
      return `[value that cannot be inspected: ${String(error)}]`;
    } catch {
      return "[value that cannot be inspected]";
    }
  }
}

function isSvgDocument(text: string): boolean {
  const t = text.trim();
  return /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(t) && /<\/svg>$/i.test(t);
}

/** The mime bundle for a value; every bundle has text/plain. */
export function toMimeBundle(value: unknown): MimeBundle {
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const method = (value as { [DISPLAY_SYMBOL]?: unknown })[DISPLAY_SYMBOL];
    if (typeof method === "function") {
      const bundle: unknown = method.call(value);
      if (bundle === null || typeof bundle !== "object") {
        throw new TypeError("[Symbol.for(\"Jupyter.display\")]() must return a mime bundle object");
      }
      const data: MimeBundle = { ...(bundle as MimeBundle) };
      if (typeof data["text/plain"] !== "string") data["text/plain"] = safeInspect(value);
      return data;
    }
  }
  if (value instanceof Uint8Array) {
    const kind = startsWith(value, PNG_MAGIC) ? "png" : startsWith(value, JPEG_MAGIC) ? "jpeg" : undefined;
    if (kind) {
      return {
        [`image/${kind}`]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
        "text/plain": `<${kind.toUpperCase()} image, ${value.byteLength} bytes>`,
      };
    }
  }
  if (typeof value === "string" && isSvgDocument(value)) {
    return { "image/svg+xml": value, "text/plain": `<SVG image, ${value.length} characters>` };
  }
  return { "text/plain": safeInspect(value) };
}

/** A value shown with one rich mime type (the result of the html/svg/md helpers). */
export class RichText {
  constructor(
    readonly mimeType: string,
    readonly text: string,
  ) {}

  [DISPLAY_SYMBOL](): MimeBundle {
    return { [this.mimeType]: this.text, "text/plain": this.text };
  }

  toString(): string {
    return this.text;
  }
}

function joinTemplate(strings: TemplateStringsArray, values: unknown[]): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += String(v) + (strings[i + 1] ?? "");
  });
  return out;
}

/** Tagged template helpers: html`<b>${x}</b>`, svg`<svg ...>`, md`# Title`. */
export const html = (s: TemplateStringsArray, ...v: unknown[]) => new RichText("text/html", joinTemplate(s, v));
export const svg = (s: TemplateStringsArray, ...v: unknown[]) => new RichText("image/svg+xml", joinTemplate(s, v));
export const md = (s: TemplateStringsArray, ...v: unknown[]) => new RichText("text/markdown", joinTemplate(s, v));
