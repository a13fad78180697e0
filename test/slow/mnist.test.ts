/**
 * Learning works: a 784-800-800-10 ReLU MLP with dropout 0.5 on both hidden layers reaches < 2.5% test error on
 * the full MNIST within 3 epochs (pixels in [0, 1], batch 64, Adam with lr 1e-3 halved every epoch).
 * Slow (minutes): `npm run test:slow` runs it (vitest.config.ts leaves test/slow out of `npm test`).
 */
import { describe, expect, it } from "vitest";
import { Sequential, Linear, Dropout, Adam, fit, evaluate, key, scheduleLr, exponentialSchedule } from "../../src/index.js";
import { mnist } from "../../src/data/mnist.js";

describe("MNIST 800-800 MLP with dropout", () => {
  it("reaches < 2.5% test error within 3 epochs", async () => {
    const train = mnist({ split: "train" });
    const test = mnist({ split: "test" });
    expect(train.x.shape).toEqual([60000, 784]);
    expect(test.x.shape).toEqual([10000, 784]);
    const model = new Sequential(
      new Linear(784, 800, { activation: "relu", init: "he", key: key(101) }),
      new Dropout(0.5, { key: key(102) }),
      new Linear(800, 800, { activation: "relu", init: "he", key: key(103) }),
      new Dropout(0.5, { key: key(104) }),
      new Linear(800, 10, { key: key(105) }),
    );
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const t0 = performance.now();
    const history = await fit(model, train, {
      epochs: 3,
      batchSize: 64,
      optimizer,
      key: key(2012),
      callbacks: [scheduleLr(optimizer, exponentialSchedule({ from: 1e-3, factor: 0.5 }))],
    });
    const { accuracy } = evaluate(model, test);
    const error = 1 - accuracy!;
    console.log(`MNIST: test error ${(100 * error).toFixed(2)}% after 3 epochs, ${((performance.now() - t0) / 1000).toFixed(0)} s;`,
      history.epochs.map((e) => `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)} acc ${e.trainAcc!.toFixed(4)} ${e.time.toFixed(0)} s`).join("; "));
    expect(history.epochs.map((e) => e.lr)).toEqual([1e-3, 5e-4, 2.5e-4]);
    expect(error).toBeLessThan(0.025);
  }, 3 * 3600_000);
});
