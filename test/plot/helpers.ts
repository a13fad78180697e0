/** Independent checkers in the standard library of Debian's Python: xml.etree parses SVG, zlib + struct decode PNG. */
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
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 6 RGBA. */
  colorType: number;
  bitDepth: number;
  /** RGB at each requested [x, y]. */
  at: [number, number, number][];
  /** Number of pixels differing from the top-left (background) colour. */
  nonBackground: number;
  /** Pixels within `tol` (max channel difference) of each of `colours`. */
  near: number[];
  /** Per requested box: pixels differing from white by more than `tol`, and pixels near each of `colours`. */
  boxes: { nonWhite: number; near: number[] }[];
}

/** A rectangle in image pixels. */
export interface PixelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A PNG decoder in standard-library Python (zlib + struct), independent of the encoder under test:
 * checks signature and every chunk CRC, undoes all five row filters, reads bit depths 1–8. */
const DECODER = `
import sys, json, zlib, struct
data = open(sys.argv[1], "rb").read() if sys.argv[1] != "-" else sys.stdin.buffer.read()
pts, colours, tol, boxes = json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "bad signature"
pos, idat, plte = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body), "bad CRC in " + kind.decode()
    if kind == b"IHDR": w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body); assert interlace == 0
    elif kind == b"PLTE": plte = [tuple(body[i:i + 3]) for i in range(0, n, 3)]
    elif kind == b"IDAT": idat += body
    elif kind == b"IEND": break
    pos += 12 + n
chans = {0: 1, 2: 3, 3: 1, 6: 4}[ctype]
bpp = max(1, chans * depth // 8)
stride = (w * chans * depth + 7) // 8
raw = zlib.decompress(idat)
rows, prev = [], bytearray(stride)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else: assert f == 0, "bad filter"
    rows.append(line); prev = line
def pixel(x, y):
    line = rows[y]
    if depth < 8:
        v = (line[x * depth // 8] >> (8 - depth - (x * depth) % 8)) & ((1 << depth) - 1)
    else:
        v = line[x * chans:(x + 1) * chans]
    if ctype == 3: return list(plte[v if depth < 8 else v[0]])
    if ctype == 0: g = v if depth < 8 else v[0]; return [g, g, g]
    return list(v[:3])
bg = pixel(0, 0)
close = lambda p, col: max(abs(p[0] - col[0]), abs(p[1] - col[1]), abs(p[2] - col[2])) <= tol
non, near = 0, [0] * len(colours)
inbox = [{"nonWhite": 0, "near": [0] * len(colours)} for _ in boxes]
for y in range(h):
    for x in range(w):
        p = pixel(x, y)
        non += p != bg
        hits = [close(p, col) for col in colours]
        for k, hit in enumerate(hits): near[k] += hit
        for b, r in zip(boxes, inbox):
            if b["x"] <= x < b["x"] + b["w"] and b["y"] <= y < b["y"] + b["h"]:
                r["nonWhite"] += not close(p, (255, 255, 255))
                for k, hit in enumerate(hits): r["near"][k] += hit
print(json.dumps({"width": w, "height": h, "colorType": ctype, "bitDepth": depth, "at": [pixel(x, y) for x, y in pts], "nonBackground": non, "near": near, "boxes": inbox}))
`;

/** Decode PNG bytes (or a PNG file), read pixels at the given coordinates and count colours (within `tol`) in
 * the whole image and in each box. */
export function decodePng(
  png: Uint8Array | string, points: [number, number][] = [], colours: [number, number, number][] = [], tol = 0, boxes: PixelBox[] = [],
): DecodedPng {
  const file = typeof png === "string" ? png : "-";
  const input = typeof png === "string" ? undefined : png;
  const args = [file, JSON.stringify(points), JSON.stringify(colours), String(tol), JSON.stringify(boxes)];
  return JSON.parse(execFileSync(PY, ["-c", DECODER, ...args], { input, maxBuffer: 64 << 20 }).toString());
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
