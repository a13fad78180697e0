import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor/tensor.js";
import { foldIn, key } from "../../src/random/keys.js";
import { permutation } from "../../src/random/index.js";
import { batchCount, batches, head, subset, trainValSplit, type LabeledDataset } from "../../src/data/dataset.js";

/** n samples; row i of x is [i, 10·i, 100·i], y = i mod 3, labels alike. */
function toy(n: number): LabeledDataset {
  const x = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) x.set([i, 10 * i, 100 * i], 3 * i);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { name: "toy", x: new Tensor(x, [n, 3]), y: new Tensor(Float32Array.from(labels), [n]), labels, classes: ["a", "b", "c"] };
}
const sorted = (a: ArrayLike<number>) => Array.from(a).sort((p, q) => p - q);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("subset, head, trainValSplit", () => {
  it("gathers rows of x, y and labels and keeps the other fields", () => {
    const s = subset(toy(10), [7, 2]);
    expect(Array.from(s.x.data)).toEqual([7, 70, 700, 2, 20, 200]);
    expect(Array.from(s.y.data)).toEqual([1, 2]);
    expect(Array.from(s.labels)).toEqual([1, 2]);
    expect(s.classes).toEqual(["a", "b", "c"]);
    expect(head(toy(10), 3).x.shape).toEqual([3, 3]);
    expect(() => subset(toy(3), [3])).toThrow(/index 3 out of range/);
  });

  it("splits disjointly and completely, by key", () => {
    const ds = toy(100);
    const { train, val } = trainValSplit(ds, { valSize: 0.2, key: key(5) });
    expect(val.x.shape).toEqual([20, 3]);
    expect(train.x.shape).toEqual([80, 3]);
    const ids = (d: LabeledDataset) => Array.from({ length: d.x.shape[0]! }, (_, i) => d.x.data[3 * i]!);
    expect(sorted([...ids(train), ...ids(val)])).toEqual(range(100));
    expect(ids(val)).toEqual(sorted(Array.from(permutation(key(5), 100).subarray(0, 20))));
    expect(ids(trainValSplit(ds, { valSize: 20, key: key(5) }).val)).toEqual(ids(val));
    expect(ids(trainValSplit(ds, { valSize: 20, key: key(6) }).val)).not.toEqual(ids(val));
    for (let i = 0; i < 20; i++) expect(val.labels[i]).toBe(ids(val)[i]! % 3);
    expect(() => trainValSplit(ds, { valSize: 100, key: key(1) })).toThrow(/valSize/);
  });
});

describe("batches", () => {
  const ds = toy(23);

  it("walks the stored order without a key, with a short last batch unless dropLast", () => {
    const all = [...batches(ds, { batchSize: 5, shuffle: false })];
    expect(all.map((b) => b.x.shape[0])).toEqual([5, 5, 5, 5, 3]);
    expect(Array.from(all[4]!.indices)).toEqual([20, 21, 22]);
    expect(Array.from(all[1]!.x.data.subarray(0, 3))).toEqual([5, 50, 500]);
    expect([...batches(ds, { batchSize: 5, shuffle: false, dropLast: true })].length).toBe(4);
    expect(batchCount(23, 5)).toBe(5);
    expect(batchCount(23, 5, true)).toBe(4);
  });

  it("shuffles by permutation(foldIn(key, epoch)): deterministic, different per epoch, covering every sample once", () => {
    const order = (epoch: number, k = key(9)) => [...batches(ds, { batchSize: 4, shuffle: k, epoch })].flatMap((b) => Array.from(b.indices));
    expect(order(0)).toEqual(order(0));
    expect(order(0)).toEqual(Array.from(permutation(foldIn(key(9), 0), 23)));
    expect(order(1)).toEqual(Array.from(permutation(foldIn(key(9), 1), 23)));
    expect(order(1)).not.toEqual(order(0));
    expect(order(0, key(10))).not.toEqual(order(0));
    for (const e of [0, 1, 2]) expect(sorted(order(e))).toEqual(range(23));
    for (const b of batches(ds, { batchSize: 4, shuffle: key(9) })) {
      b.indices.forEach((i, r) => {
        expect(b.x.data[3 * r + 1]).toBe(10 * i);
        expect(b.y.data[r]).toBe(i % 3);
      });
    }
  });

  it("puts each sample first about equally often over many epochs", () => {
    // 5 samples, 2,000 epochs: each count is Binomial(2000, 0.2), mean 400, sd 17.9; allow 5 sd.
    const small = toy(5);
    const first = new Array(5).fill(0);
    for (let e = 0; e < 2000; e++) first[batches(small, { batchSize: 5, shuffle: key(1), epoch: e }).next().value!.indices[0]!]++;
    for (const c of first) expect(Math.abs(c - 400)).toBeLessThan(90);
  });

  it("rejects a bad batch size and a non-key shuffle", () => {
    expect(() => batches(ds, { batchSize: 0, shuffle: false }).next()).toThrow(/batchSize/);
    expect(() => batches(ds, { batchSize: 2, shuffle: 42 as never }).next()).toThrow(/shuffle must be a Key or false/);
  });
});
