import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cifar10Binary } from "../../src/data/cifar.js";
import { DataError } from "../../src/data/errors.js";
import { fixtureDir } from "./helpers.js";

const dir = fixtureDir();
/** The pixel byte of record r (global index), channel c, row y, column x. */
const pixel = (r: number, c: number, y: number, x: number) => (r * 31 + c * 67 + y * 5 + x * 3) % 256;
/** Records first … first + n − 1 in the CIFAR-10 binary layout, label (r·7) mod 10. */
function records(first: number, n: number): Uint8Array {
  const out = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    const r = first + i;
    out[i * 3073] = (r * 7) % 10;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[i * 3073 + 1 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
  }
  return out;
}
const file = (name: string, bytes: Uint8Array, at = dir) => {
  const f = join(at, name);
  writeFileSync(f, bytes);
  return f;
};

describe("CIFAR-10 binary reader", () => {
  it("reads records across files into [N, 3, 32, 32] with channel-major planes", () => {
    const ds = cifar10Binary([file("a.bin", records(0, 3)), file("b.bin.gz", gzipSync(records(3, 2)))]);
    expect(ds.x.shape).toEqual([5, 3, 32, 32]);
    expect(Array.from(ds.labels)).toEqual([0, 7, 4, 1, 8]);
    expect(Array.from(ds.y.data)).toEqual([0, 7, 4, 1, 8]);
    for (const [r, c, y, x] of [[0, 0, 0, 0], [1, 2, 31, 0], [3, 1, 5, 30], [4, 2, 31, 31]] as const) {
      expect(ds.x.data[((r * 3 + c) * 32 + y) * 32 + x]).toBeCloseTo(pixel(r, c, y, x) / 255, 7);
    }
    expect(ds.classes[1]).toBe("automobile");
    expect(cifar10Binary([join(dir, "a.bin"), join(dir, "b.bin.gz")], { limit: 4 }).x.shape).toEqual([4, 3, 32, 32]);
  });

  it("finds the standard file names in a directory or its cifar-10-batches-bin subdirectory", () => {
    const root = join(dir, "cifar");
    const batchesDir = join(root, "cifar-10-batches-bin");
    mkdirSync(batchesDir, { recursive: true });
    for (let i = 1; i <= 5; i++) file(`data_batch_${i}.bin`, records(10 * i, 2), batchesDir);
    file("test_batch.bin", records(100, 3), batchesDir);
    const train = cifar10Binary(root);
    expect(train.x.shape).toEqual([10, 3, 32, 32]);
    expect(train.labels[2]).toBe((20 * 7) % 10);
    expect(train.x.data[2 * 3072 + 1024 + 33]).toBeCloseTo(pixel(20, 1, 1, 1) / 255, 7);
    expect(cifar10Binary(batchesDir, { split: "test" }).labels.length).toBe(3);
    expect(() => cifar10Binary(dir, { split: "test" })).toThrow(/has no test_batch\.bin/);
  });

  it("names the file and the defect for a truncated file or a bad label byte", () => {
    const cut = file("cut.bin", records(0, 3).subarray(0, 6150));
    let err: unknown;
    try {
      cifar10Binary([file("ok.bin", records(0, 1)), cut]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toContain(`${cut} is 6,150 bytes, not a multiple of 3,073`);
    const bad = records(0, 2);
    bad[3073] = 10;
    expect(() => cifar10Binary([file("bad.bin", bad)])).toThrow(/bad\.bin has label byte 10 in record 1, not a class id 0–9/);
    expect(() => cifar10Binary([file("empty.bin", new Uint8Array(0))])).toThrow(/empty\.bin is 0 bytes/);
  });
});
