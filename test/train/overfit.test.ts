/**
 * Dropout regularizes: a 20-128-128-2 ReLU MLP on 200 synthetic examples (a linear rule, 20% of training labels
 * flipped) memorizes the noise without dropout, and with dropout 0.5 on its hidden layers keeps a much smaller
 * gap between test and training loss (both in evaluation mode) and no worse test accuracy.
 */
import { describe, expect, it } from "vitest";
import { Sequential, Linear, Dropout, Adam, Tensor, fit, evaluate, key, randn, random, type TensorModule, type Dataset } from "../../src/index.js";

const D = 20;

/** Label 1 when Σ ±x_j > 0 (alternating signs), flipped with probability `flip`. */
function data(seed: number, n: number, flip: number): Dataset {
  const x = randn(key(seed), [n, D]);
  const u = random.uniform(key(seed + 1000), [n]);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x.data[i * D + j]! * (j % 2 ? 1 : -1);
    y[i] = s > 0 !== u.data[i]! < flip ? 1 : 0;
  }
  return { x, y: new Tensor(y, [n]) };
}

async function run(p: number, train: Dataset, test: Dataset) {
  const layers: TensorModule[] = [new Linear(D, 128, { activation: "relu", init: "he", key: key(3) })];
  if (p > 0) layers.push(new Dropout(p, { key: key(4) }));
  layers.push(new Linear(128, 128, { activation: "relu", init: "he", key: key(5) }));
  if (p > 0) layers.push(new Dropout(p, { key: key(6) }));
  layers.push(new Linear(128, 2, { key: key(7) }));
  const model = new Sequential(...layers);
  await fit(model, train, { epochs: 60, batchSize: 20, optimizer: new Adam(model.parameters(), { lr: 3e-3 }), key: key(8) });
  const tr = evaluate(model, train);
  const te = evaluate(model, test);
  return { gap: te.loss - tr.loss, trainAcc: tr.accuracy!, testAcc: te.accuracy! };
}

describe("dropout reduces overfitting", () => {
  it("without dropout the net memorizes noisy labels; with dropout the loss gap is less than half", async () => {
    const train = data(1, 200, 0.2);
    const test = data(2, 2000, 0);
    const plain = await run(0, train, test);
    const dropped = await run(0.5, train, test);
    console.log("without dropout", plain, "with dropout 0.5", dropped);
    expect(plain.trainAcc).toBe(1);
    expect(plain.gap).toBeGreaterThan(2 * dropped.gap);
    expect(dropped.testAcc).toBeGreaterThanOrEqual(plain.testAcc);
  }, 300_000);
});
