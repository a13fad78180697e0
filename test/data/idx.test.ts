/** The IDX reader: the real MNIST files, gzip, and every defect named with the file. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readIdx, parseIdx } from "../../src/data/idx.js";
import { mnist } from "../train/mnist.js";

const dir = mkdtempSync(join(tmpdir(), "dropout-lab-idx-"));

function idx(type: number, dims: number[], body: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(body)]);
}

describe("readIdx", () => {
  it("reads the MNIST test set: 10000 images of 28×28 and labels 0–9", () => {
    const t = mnist("test");
    expect(t.x.shape).toEqual([10000, 784]);
    expect(t.y.shape).toEqual([10000]);
    const counts = new Array(10).fill(0);
    for (const v of t.y.data) counts[v]++;
    // The MNIST test set's label counts.
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Math.max(...t.x.data.subarray(0, 784))).toBe(1);
  });

  it("reads uint8 and big-endian int32, plain or gzipped", () => {
    const u8 = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    const p = join(dir, "u8.idx.gz");
    writeFileSync(p, gzipSync(u8));
    expect(readIdx(p)).toEqual({ type: "uint8", shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const i32 = idx(0x0c, [2], [0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]);
    expect(Array.from(parseIdx(i32).data)).toEqual([-2, 256]);
  });

  it("names the file and the defect", () => {
    const put = (name: string, b: Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, b);
      return p;
    };
    expect(() => readIdx(put("magic.idx", Buffer.from([1, 0, 8, 1, 0, 0, 0, 0])))).toThrow(/magic\.idx: bad magic number 0x01000801/);
    expect(() => readIdx(put("type.idx", idx(0x07, [1], [0])))).toThrow(/type\.idx: unknown element type 0x7/);
    expect(() => readIdx(put("short.idx", idx(0x08, [2, 3], [1, 2, 3])))).toThrow(/short\.idx: truncated: dimensions 2×3 need 18 bytes, file has 15/);
    expect(() => readIdx(put("long.idx", idx(0x08, [1], [1, 2])))).toThrow(/long\.idx: 1 unexpected bytes/);
    expect(() => readIdx(put("head.idx", Buffer.from([0, 0, 8, 3, 0, 0])))).toThrow(/head\.idx: truncated: header needs 16 bytes/);
    expect(() => readIdx(put("gz.idx", Buffer.from([0x1f, 0x8b, 1, 2, 3])))).toThrow(/gz\.idx: corrupt gzip/);
    expect(() => readIdx(join(dir, "nope.idx"))).toThrow(/nope\.idx: cannot read \(ENOENT\)/);
  });
});
