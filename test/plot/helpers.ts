/** Independent checkers: Python's xml.etree parses SVG, Pillow decodes PNG. */
import { execFileSync } from "node:child_process";

const PY = "/usr/bin/python3";

export interface XmlNode {
  tag: string;
  attrib: Record<string, string>;
  text: string;
}

/** Parse with a strict XML parser (throws on malformed XML); every element, document order. */
export function parseXml(xml: string): XmlNode[] {
  const script = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
out = []
for e in root.iter():
    out.append({"tag": e.tag.split("}")[-1], "attrib": {k.split("}")[-1]: v for k, v in e.attrib.items()}, "text": "".join(e.itertext())})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PY, ["-c", script], { input: xml, maxBuffer: 64 << 20 }).toString());
}

export interface DecodedPng {
  width: number;
  height: number;
  mode: string;
  /** RGB at each requested [x, y]. */
  at: [number, number, number][];
  /** Number of pixels differing from the corner (background) colour. */
  nonBackground: number;
}

/** Decode with Pillow and read pixels at the given coordinates. */
export function decodePng(png: Uint8Array, points: [number, number][] = []): DecodedPng {
  const script = `
import sys, io, json
from PIL import Image
pts = json.loads(sys.argv[1])
im = Image.open(io.BytesIO(sys.stdin.buffer.read()))
im.load()
mode = im.mode
rgb = im.convert("RGB")
bg = rgb.getpixel((0, 0))
non = sum(1 for p in rgb.getdata() if p != bg)
print(json.dumps({"width": im.width, "height": im.height, "mode": mode, "at": [list(rgb.getpixel(tuple(p))) for p in pts], "nonBackground": non}))
`;
  return JSON.parse(execFileSync(PY, ["-c", script, JSON.stringify(points)], { input: png, maxBuffer: 64 << 20 }).toString());
}

/** A small deterministic generator for test data (tests only). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export const bundleOf = (o: object): Record<string, unknown> =>
  (o as Record<symbol, () => Record<string, unknown>>)[Symbol.for("Jupyter.display")]();
