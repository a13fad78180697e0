/**
 * Learning works: a 784-800-800-10 ReLU MLP with dropout 0.5 on both hidden layers reaches < 2.5% test error on
 * the full MNIST within 3 epochs (Adam 1e-3, batch 64, inputs standardized with the training set's pixel mean and
 * standard deviation). Slow (minutes): it runs only with DROPOUT_LAB_SLOW=1 (`npm run test:slow`).
 */
import { describe, expect, it } from "vitest";
import { Sequential, Linear, Dropout, Adam, fit, evaluate, key } from "../../src/index.js";
import { mnist } from "../train/mnist.js";

describe.skipIf(!process.env.DROPOUT_LAB_SLOW)("MNIST 800-800 MLP with dropout", () => {
  it("reaches < 2.5% test error within 3 epochs", async () => {
    const train = mnist("train");
    const test = mnist("test");
    let mean = 0;
    for (const v of train.x.data) mean += v;
    mean /= train.x.size;
    let sq = 0;
    for (const v of train.x.data) sq += (v - mean) ** 2;
    const std = Math.sqrt(sq / train.x.size);
    for (const d of [train.x.data, test.x.data]) for (let i = 0; i < d.length; i++) d[i] = (d[i]! - mean) / std;
    expect(train.x.shape).toEqual([60000, 784]);
    expect(test.x.shape).toEqual([10000, 784]);
    const k = key(2012);
    const [k1, k2, k3, k4, k5] = [1, 2, 3, 4, 5].map((i) => ({ key: key(100 + i) }));
    const model = new Sequential(
      new Linear(784, 800, { activation: "relu", init: "he", ...k1 }),
      new Dropout(0.5, k2),
      new Linear(800, 800, { activation: "relu", init: "he", ...k3 }),
      new Dropout(0.5, k4),
      new Linear(800, 10, k5),
    );
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const t0 = performance.now();
    const history = await fit(model, train, { epochs: 3, batchSize: 64, optimizer, key: k });
    const { accuracy } = evaluate(model, test);
    const error = 1 - accuracy!;
    console.log(`MNIST: test error ${(100 * error).toFixed(2)}% after 3 epochs, ${((performance.now() - t0) / 1000).toFixed(0)} s;`,
      history.epochs.map((e) => `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)} acc ${e.trainAcc!.toFixed(4)} ${e.time.toFixed(0)} s`).join("; "));
    expect(history.epochs).toHaveLength(3);
    expect(error).toBeLessThan(0.025);
  }, 3 * 3600_000);
});
