import { describe, expect, it } from "vitest";
import { lossPlot, minMaxDownsample, ema, type HistoryLike } from "../../src/plot/index.js";
import { Sequential, Linear, Dropout, SGD, Tensor, fit, key, randn, type Dataset, type History } from "../../src/index.js";
import { bundleOf, lcg, parseXml } from "./helpers.js";

function history(p: number, epochs: number, batchesPerEpoch: number, seed: number): HistoryLike {
  const rnd = lcg(seed);
  const h: HistoryLike & { batches: { step: number; loss: number }[] } = { epochs: [], batches: [] };
  for (let e = 1; e <= epochs; e++) {
    for (let b = 1; b <= batchesPerEpoch; b++) {
      h.batches.push({ step: (e - 1) * batchesPerEpoch + b, loss: 2 * Math.exp(-e / 10) + 0.05 + 0.3 * rnd() });
    }
    const train = 2 * Math.exp(-e / (8 + 10 * p)) + 0.05;
    const val = train + 0.1 + (1 - p) * 0.02 * Math.max(0, e - 12) + 0.02 * rnd();
    (h.epochs as object[]).push({ epoch: e, step: e * batchesPerEpoch, trainLoss: train, valLoss: val, trainAcc: 1 - train / 3, valAcc: 1 - val / 3 });
  }
  return h;
}

const texts = (nodes: ReturnType<typeof parseXml>, tag = "text") => nodes.filter((n) => n.tag === tag).map((n) => n.text);

describe("lossPlot", () => {
  const runs = { "p=0": history(0, 30, 20, 1), "p=0.5": history(0.5, 30, 20, 2) };

  it("draws well-formed SVG with legend, labels, panels and best-epoch markers", () => {
    const plot = lossPlot(runs, { title: "Dropout <rate> & overfitting" });
    const nodes = parseXml(plot.svg());
    expect(nodes[0].tag).toBe("svg");
    const t = texts(nodes);
    expect(t).toContain("Dropout <rate> & overfitting"); // escaped in the source, intact once parsed
    for (const label of ["p=0 train", "p=0 val", "p=0.5 train", "p=0.5 val", "best (min val loss)"]) expect(t).toContain(label);
    expect(t).toContain("epoch");
    expect(t).toContain("loss");
    expect(t).toContain("accuracy");
    expect(nodes.filter((n) => n.attrib.class === "series")).toHaveLength(8); // 2 runs × 2 splits × 2 panels
    const markers = nodes.filter((n) => n.attrib.class === "best-marker");
    expect(markers).toHaveLength(2);
    for (const [name, h] of Object.entries(runs)) {
      const best = h.epochs.reduce((a, e) => (e.valLoss! < a.valLoss! ? e : a));
      expect(markers.some((m) => m.text.startsWith(`best ${name} val loss`) && m.text.endsWith(`at epoch ${best.epoch}`))).toBe(true);
    }
    // a background rect keeps it readable on dark themes
    expect(nodes[1].tag === "title" ? nodes[2] : nodes[1]).toMatchObject({ tag: "rect", attrib: { fill: "#fff" } });
  });

  it("summarises runs in text/plain and offers SVG and Vega-Lite", () => {
    const b = bundleOf(lossPlot(runs));
    expect(Object.keys(b).sort()).toEqual(["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
    const best = runs["p=0"].epochs.reduce((a, e) => (e.valLoss! < a.valLoss! ? e : a));
    expect(b["text/plain"]).toContain("p=0.5: 30 epochs");
    expect(b["text/plain"]).toContain(`best valLoss ${+best.valLoss!.toPrecision(4)} at epoch ${best.epoch}`);
  });

  it("builds a Vega-Lite v5 spec with inline data and encodings", () => {
    const spec = lossPlot(runs, { logY: true, metrics: ["loss"] }).vegaLite() as any;
    expect(spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(spec.vconcat).toHaveLength(1);
    const [line, best] = spec.vconcat[0].layer;
    expect(line.mark.type).toBe("line");
    expect(line.data.values).toHaveLength(4 * 30);
    expect(line.data.values[0]).toMatchObject({ series: "p=0 train", split: "train", x: 1 });
    expect(line.encoding.x.field).toBe("x");
    expect(line.encoding.y).toMatchObject({ field: "y", type: "quantitative", scale: { type: "log" } });
    expect(line.encoding.color.scale.domain).toEqual(["p=0 train", "p=0 val", "p=0.5 train", "p=0.5 val"]);
    expect(best.data.values).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec); // plain JSON, no NaN or functions lost
  });

  it("keeps 1,000+ points per series under 40 KB of SVG", () => {
    const big = { "p=0": history(0, 40, 100, 3), "p=0.2": history(0.2, 40, 100, 4), "p=0.5": history(0.5, 40, 100, 5) };
    const svg = lossPlot(big, { axis: "step", smoothing: 0.9, logY: true }).svg();
    expect(big["p=0"].batches!.length).toBe(4000);
    expect(svg.length).toBeLessThan(40_000);
    parseXml(svg);
    const series = Array.from({ length: 5000 }, (_, i) => Math.sin(i / 50) + (i % 7) / 10);
    const one = lossPlot([{ name: "a", y: series }, { name: "b", y: series.map((v) => v * 2) }]).svg();
    expect(one.length).toBeLessThan(40_000);
    // coordinates carry at most one decimal
    expect(/\d\.\d\d/.test(one.replace(/<text[^>]*>[^<]*<\/text>/g, ""))).toBe(false);
  });

  it("plots the per-batch loss on the step axis, with smoothing keeping the raw curve faint", () => {
    const nodes = parseXml(lossPlot(runs, { axis: "step", smoothing: 0.6, metrics: ["loss"] }).svg());
    expect(nodes.filter((n) => n.attrib.class === "raw")).toHaveLength(4);
    expect(texts(nodes)).toContain("step");
  });

  it("accepts plain series and rejects bad input clearly", () => {
    const p = lossPlot([{ name: "a<b", x: [1, 2, 3], y: [3, 2, 1] }], { yLabel: "error" });
    expect(texts(parseXml(p.svg()))).toEqual(expect.arrayContaining(["a<b", "error"]));
    expect(p.toString()).toContain("a<b: 3 points");
    expect(() => lossPlot({} as never)).toThrow(/expected a History/);
    expect(() => lossPlot([{ name: "a", x: [1], y: [1, 2] }])).toThrow(/1 x and 2 y/);
    expect(() => lossPlot({ epochs: [{ epoch: 1, trainLoss: 0 }] }, { logY: true })).toThrow(/positive/);
    expect(() => lossPlot({ epochs: [{ epoch: 1, trainLoss: 1 }] }, { axis: "step" })).toThrow(/history.batches/);
    expect(() => lossPlot(runs, { smoothing: 1 })).toThrow(/smoothing/);
  });

  it("draws error (%) from accuracy", () => {
    const nodes = parseXml(lossPlot(runs, { metrics: ["error"] }).svg());
    expect(texts(nodes)).toContain("error (%)");
  });
});

describe("lossPlot of fit's History", () => {
  const blobs = (seed: number, n: number): Dataset => {
    const x = randn(key(seed), [n, 4]);
    const y = new Float32Array(n).map((_, i) => i % 2);
    for (let i = 0; i < n; i++) x.data[i * 4] += y[i] ? 1 : -1;
    return { x, y: new Tensor(y, [n]) };
  };
  const train = async (p: number): Promise<History> => {
    const m = new Sequential(new Linear(4, 16, { activation: "relu", key: key(1) }), new Dropout(p, { key: key(2) }), new Linear(16, 2, { key: key(3) }));
    return fit(m, blobs(4, 48), { epochs: 4, batchSize: 16, optimizer: new SGD(m.parameters(), { lr: 0.1 }), validation: blobs(5, 24), key: key(6) });
  };

  it("takes a History as fit returns it, on the epoch and the step axis", async () => {
    const h = await train(0.2);
    const byEpoch = parseXml(lossPlot(h).svg());
    expect(texts(byEpoch)).toEqual(expect.arrayContaining(["train", "val", "loss", "accuracy", "epoch"]));
    expect(byEpoch.filter((n) => n.attrib.class === "series")).toHaveLength(4);
    const best = h.epochs.reduce((a, e) => (e.valLoss! < a.valLoss! ? e : a));
    expect(lossPlot(h).toString()).toContain(`best valLoss ${+best.valLoss!.toPrecision(4)} at epoch ${best.epoch}`);
    // step axis: the batch losses, and each epoch's validation loss at its last step (3 batches per epoch)
    const spec = lossPlot(h, { axis: "step", metrics: ["loss"] }).vegaLite() as any;
    const values = spec.vconcat[0].layer[0].data.values as { series: string; x: number; y: number }[];
    expect(values.filter((v) => v.series === "train").map((v) => v.x)).toEqual(h.batches.map((b) => b.step));
    expect(values.filter((v) => v.series === "val").map((v) => v.x)).toEqual([2, 5, 8, 11]);
    expect(values.filter((v) => v.series === "val").map((v) => v.y)).toEqual(h.epochs.map((e) => +e.valLoss!.toPrecision(5)));
  });

  it("puts several Histories on one chart, named by labels or by keys", async () => {
    const [h0, h5] = [await train(0), await train(0.5)];
    const labelled = parseXml(lossPlot([h0, h5], { labels: ["p=0", "p=0.5"], metrics: ["loss"] }).svg());
    expect(texts(labelled)).toEqual(expect.arrayContaining(["p=0 train", "p=0 val", "p=0.5 train", "p=0.5 val"]));
    expect(labelled.filter((n) => n.attrib.class === "best-marker")).toHaveLength(2);
    expect(lossPlot([h0, h5], { metrics: ["loss"] }).toString()).toMatch(/run 1: 4 epochs.*\n.*run 2: 4 epochs/);
    expect(lossPlot({ "p=0": h0, "p=0.5": h5 }).svg()).toBe(lossPlot([h0, h5], { labels: ["p=0", "p=0.5"] }).svg());
    expect(() => lossPlot([h0, h5], { labels: ["one"] })).toThrow(/1 labels for 2 histories/);
    expect(() => lossPlot(h0, { labels: ["one"] })).toThrow(/labels names the runs of an array of Histories/);
  });
});

describe("downsampling and smoothing", () => {
  it("keeps each bucket's minimum and maximum, in order, and the end points", () => {
    const rnd = lcg(9);
    const n = 3000, buckets = 100;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map(() => rnd());
    const d = minMaxDownsample({ x, y }, buckets);
    expect(d.x.length).toBeLessThanOrEqual(2 * buckets + 2);
    expect(d.x).toEqual([...d.x].sort((a, b) => a - b));
    expect(d.x[0]).toBe(0);
    expect(d.x[d.x.length - 1]).toBe(n - 1);
    for (let b = 0; b < buckets; b++) {
      const ids = x.filter((i) => Math.min(buckets - 1, Math.floor((i / (n - 1)) * buckets)) === b);
      const ys = ids.map((i) => y[i]);
      const kept = d.y.filter((_, k) => ids.includes(d.x[k]));
      expect(kept).toContain(Math.min(...ys));
      expect(kept).toContain(Math.max(...ys));
    }
  });

  it("leaves short series alone", () => {
    const p = { x: [0, 1, 2], y: [1, 5, 2] };
    expect(minMaxDownsample(p, 10)).toBe(p);
  });

  it("EMA is bias-corrected: a constant stays constant and the first value is kept", () => {
    expect(ema([3, 3, 3], 0.9)).toEqual([3, 3, 3].map((v) => expect.closeTo(v, 12)));
    const s = ema([1, 0], 0.5);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeCloseTo((0.5 * 0.5 * 1) / (1 - 0.25), 12);
  });
});
