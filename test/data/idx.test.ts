import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/data/errors.js";
import { encodeIdx, parseIdx, readIdx } from "../../src/data/idx-reader.js";
import { mnist } from "../../src/data/mnist.js";
import { fixtureDir } from "./helpers.js";

const dir = fixtureDir();
const write = (name: string, bytes: Uint8Array) => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};
// int16, 1 dimension of size 2: 0x0102 = 258 and 0xfffe = −2 (big-endian)
const HAND = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);

describe("IDX reader", () => {
  it("decodes hand-written big-endian bytes", () => {
    const a = readIdx(write("hand.idx", HAND));
    expect(a.type).toBe("int16");
    expect(a.dims).toEqual([2]);
    expect(Array.from(a.data)).toEqual([258, -2]);
  });

  it("decodes a 3-dimensional uint8 file and the same file gzipped", () => {
    const bytes = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 250, 251, 255]);
    for (const name of ["u8.idx", "u8.idx.gz"]) {
      const a = readIdx(write(name, name.endsWith(".gz") ? gzipSync(bytes) : bytes));
      expect(a).toMatchObject({ type: "uint8", dims: [2, 1, 3] });
      expect(Array.from(a.data)).toEqual([1, 2, 3, 250, 251, 255]);
    }
  });

  it("round-trips every element type through encodeIdx", () => {
    const cases = [
      ["uint8", [0, 7, 255]],
      ["int8", [-128, 0, 127]],
      ["int16", [-32768, 1, 32767]],
      ["int32", [-(2 ** 31), 5, 2 ** 31 - 1]],
      ["float32", [-1.5, 0.25, 2 ** 127]],
      ["float64", [-1e300, Math.PI, 5e-324]],
    ] as const;
    for (const [type, values] of cases) {
      const a = parseIdx(encodeIdx(type, [3], values), type);
      expect(a.type).toBe(type);
      expect(Array.from(a.data)).toEqual(values);
    }
  });

  it("names the file and the defect", () => {
    const check = (name: string, bytes: Uint8Array, defect: RegExp) => {
      const f = write(name, bytes);
      let err: unknown;
      try {
        readIdx(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).file).toBe(f);
      expect((err as DataError).message).toMatch(defect);
      expect((err as DataError).message.startsWith(f)).toBe(true);
    };
    const magic = HAND.slice();
    magic[0] = 8;
    check("magic.idx", magic, /has bad IDX magic 0x08000b01/);
    const type = HAND.slice();
    type[2] = 0x07;
    check("type.idx", type, /has unknown IDX element type 0x07/);
    check("short.idx", HAND.subarray(0, 11), /is 11 bytes, expected 12 for 2 int16 \(truncated\)/);
    check("long.idx", new Uint8Array([...HAND, 0, 0]), /is 14 bytes, expected 12 .*\(2 trailing bytes\)/);
    check("header.idx", HAND.subarray(0, 6), /is 6 bytes, too short for an IDX header of 1 dimensions/);
    check("tiny.idx", HAND.subarray(0, 3), /is 3 bytes, too short for an IDX header/);
    const big = encodeIdx("uint8", [1000, 28, 28], new Uint8Array(784_000));
    check("cut.idx.gz", gzipSync(big.subarray(0, 700_000)), /is 700,000 bytes, expected 784,016 for 1000×28×28 uint8 \(truncated\)/);
    const gz = gzipSync(HAND);
    check("badgz.idx.gz", gz.subarray(0, gz.length - 6), /holds bad gzip data/);
    const corrupt = gz.slice();
    corrupt[12] ^= 0xff;
    check("corrupt.idx.gz", corrupt, /holds bad gzip data/);
    expect(() => readIdx(join(dir, "absent.idx"))).toThrow(/absent\.idx cannot be read \(ENOENT\)/);
  });
});

describe("MNIST files that do not fit together", () => {
  const set = (name: string, images: Uint8Array, labels: Uint8Array) => {
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(join(d, "train-images-idx3-ubyte"), images);
    writeFileSync(join(d, "train-labels-idx1-ubyte.gz"), gzipSync(labels));
    return d;
  };
  const images = (n: number) => encodeIdx("uint8", [n, 28, 28], new Uint8Array(n * 784).map((_, i) => i % 256));

  it("reads a small well-formed set (labels gzipped)", () => {
    const d = set("ok", images(2), encodeIdx("uint8", [2], [3, 9]));
    const ds = mnist({ dir: d });
    expect(ds.x.shape).toEqual([2, 784]);
    expect(ds.x.data[300]).toBeCloseTo((300 % 256) / 255, 6);
    expect(Array.from(ds.labels)).toEqual([3, 9]);
  });

  it("rejects a label count that differs from the image count", () => {
    const d = set("count", images(2), encodeIdx("uint8", [3], [1, 2, 3]));
    expect(() => mnist({ dir: d })).toThrow(/train-labels-idx1-ubyte\.gz holds 3 labels but .*train-images-idx3-ubyte holds 2 images/);
  });

  it("rejects labels outside 0–9, images of the wrong rank, and a missing file", () => {
    expect(() => mnist({ dir: set("range", images(2), encodeIdx("uint8", [2], [1, 10])) })).toThrow(/labels-idx1-ubyte\.gz has label 10 at index 1, not a class id 0–9/);
    const flat = encodeIdx("uint8", [2, 784], new Uint8Array(2 * 784));
    expect(() => mnist({ dir: set("rank", flat, encodeIdx("uint8", [2], [1, 2])) })).toThrow(/images-idx3-ubyte holds uint8 2×784, not uint8 images of 3 dimensions/);
    expect(() => mnist({ dir, split: "test" })).toThrow(/t10k-images-idx3-ubyte is missing/);
  });
});
