import { describe, expect, it } from "vitest";
import { maskHeatmap } from "../../src/plot/index.js";
import { DROPPED, KEPT } from "../../src/plot/mask.js";
import { colormap } from "../../src/plot/colormap.js";
import { bundleOf, decodePng, lcg } from "./helpers.js";

function bernoulliMask(rows: number, cols: number, keep: number, seed: number, scale = 1): Float32Array {
  const rnd = lcg(seed);
  return Float32Array.from({ length: rows * cols }, () => (rnd() < keep ? scale : 0));
}

describe("maskHeatmap", () => {
  it("draws a 100 × 800 dense mask under 60 KB, kept and dropped cells in their colours", () => {
    const data = bernoulliMask(100, 800, 0.5, 1, 2); // inverted dropout: kept units carry 1/(1-p)
    const m = maskHeatmap({ shape: [100, 800], data }, { title: "fc1 mask" });
    const png = m.png();
    expect(png.length).toBeLessThan(60_000);
    const keptAt = data.findIndex((v) => v !== 0), droppedAt = data.findIndex((v) => v === 0);
    const lastKept = data.findLastIndex((v) => v !== 0);
    const pts = [keptAt, droppedAt, lastKept].map((i) => m.cellCenter(Math.floor(i / 800), i % 800));
    const d = decodePng(png, pts);
    expect(d.width).toBeGreaterThanOrEqual(800);
    expect(d.height).toBeGreaterThanOrEqual(100);
    expect(d.at[0]).toEqual(KEPT);
    expect(d.at[1]).toEqual(DROPPED);
    expect(d.at[2]).toEqual(KEPT);
    expect(d.at[0]).not.toEqual(d.at[1]);
  });

  it("keeps a graded 100 × 800 mask (Gaussian multipliers) under 60 KB too", () => {
    const rnd = lcg(11);
    const data = Float32Array.from({ length: 80_000 }, () => 1 + Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
    const m = maskHeatmap({ shape: [100, 800], data });
    expect(m.graded).toBe(true);
    expect(m.png().length).toBeLessThan(60_000);
  });

  it("reports the kept fraction and shape in text/plain", () => {
    const data = [[1, 0, 1, 1], [0, 0, 1, 1]];
    const m = maskHeatmap(data);
    expect(m.keptFraction).toBe(5 / 8);
    const b = bundleOf(m);
    expect(b["text/plain"]).toBe("dense mask [2, 4]: kept 62.5% (5 of 8), dropped 37.5%");
    expect(typeof b["image/png"]).toBe("string");
    expect(Buffer.from(b["image/png"] as string, "base64").subarray(1, 4).toString()).toBe("PNG");
  });

  it("draws conv channel masks [N, C, H, W] as a grid of tiles", () => {
    const N = 2, C = 3, H = 5, W = 5;
    // channel 1 of sample 0 dropped whole (Dropout2d), everything else kept
    const data = Float32Array.from({ length: N * C * H * W }, (_, i) => (Math.floor(i / (H * W)) === 1 ? 0 : 1));
    const m = maskHeatmap({ shape: [N, C, H, W], data });
    expect(m.kind).toBe("conv");
    const d = decodePng(m.png(), [m.cellCenter(2, 2, 0), m.cellCenter(2, 2, 1), m.cellCenter(0, 4, 4)]);
    expect(d.at).toEqual([KEPT, DROPPED, KEPT]);
    expect(m.toString()).toContain(`kept ${(100 * 125 / 150).toFixed(1)}%`);
  });

  it("limits large conv batches and says so", () => {
    const m = maskHeatmap({ shape: [20, 40, 4, 4], data: new Float32Array(20 * 40 * 16).fill(1) });
    expect(m.toString()).toContain("showing samples 0..7 of 20, channels 0..15 of 40");
    expect(decodePng(m.png()).width).toBeLessThan(1200);
  });

  it("draws at most maxRows × maxCols of a huge mask, saying so, but counts all of it", () => {
    const data = new Float32Array(600 * 2000);
    data.fill(1, 0, 1000); // 1000 kept units in row 0
    const m = maskHeatmap({ shape: [600, 2000], data });
    expect(m.toString()).toBe("dense mask [600, 2000]: kept 0.1% (1000 of 1200000), dropped 99.9% (showing rows 0..511 of 600, columns 0..1023 of 2000)");
    const d = decodePng(m.png(), [m.cellCenter(0, 999), m.cellCenter(0, 1000)]);
    expect(d.at).toEqual([KEPT, DROPPED]);
    expect(d.width).toBeLessThan(1300);
    expect(() => m.cellCenter(0, 1024)).toThrow(/no cell/);
  });

  it("puts RNN h and c masks side by side", () => {
    const T = 12, U = 30;
    const h = { shape: [T, U], data: bernoulliMask(T, U, 0.7, 2) };
    const c = { shape: [T, U], data: new Float32Array(T * U) }; // all zoned out
    const m = maskHeatmap({ h, c });
    expect(m.kind).toBe("rnn");
    const hk = h.data.findIndex((v) => v !== 0);
    const [hx] = m.cellCenter(0, 0, 0), [cx] = m.cellCenter(0, 0, 1);
    expect(cx).toBeGreaterThan(hx + U);
    const d = decodePng(m.png(), [m.cellCenter(Math.floor(hk / U), hk % U, 0), m.cellCenter(Math.floor(hk / U), hk % U, 1)]);
    expect(d.at).toEqual([KEPT, DROPPED]);
    expect(m.toString()).toContain("rnn mask h and c [12, 30]");
    expect(() => maskHeatmap({ h, c: { shape: [12, 29], data: new Float32Array(12 * 29) } })).toThrow(/differ in shape/);
  });

  it("names the two values as told (zoneout: held / updated) in the summary and the legend", () => {
    const h = { shape: [4, 5], data: [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] };
    const plain = maskHeatmap({ h, c: h });
    const named = maskHeatmap({ h, c: h }, { labels: { kept: "held previous value", dropped: "updated" } });
    expect(named.toString()).toBe("rnn mask h and c [4, 5]: held previous value 15.0% (6 of 40), updated 85.0%");
    // The legend grows to fit the longer label; the cells keep their colours.
    const [a, b] = [plain, named].map((m) => decodePng(m.png(), [m.cellCenter(0, 0, 1), m.cellCenter(0, 1, 1)]));
    expect(b!.width).toBeGreaterThan(a!.width);
    expect(b!.at).toEqual([KEPT, DROPPED]);
  });

  it("takes one batch element of [T, B, U] RNN masks", () => {
    const data = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => (Math.floor(i / 3) % 2)); // batch 1 kept, batch 0 dropped
    const m0 = maskHeatmap({ h: { shape: [4, 2, 3], data }, c: { shape: [4, 2, 3], data } });
    const m1 = maskHeatmap({ h: { shape: [4, 2, 3], data }, c: { shape: [4, 2, 3], data } }, { batchIndex: 1 });
    expect(m0.keptFraction).toBe(0);
    expect(m1.keptFraction).toBe(1);
    expect(() => maskHeatmap({ h: { shape: [4, 2, 3], data }, c: { shape: [4, 2, 3], data } }, { batchIndex: 2 }).png()).toThrow(/batchIndex/);
  });

  it("uses a continuous scale for graded (Gaussian-dropout) multipliers", () => {
    const data = [[0.5, 1.5], [1, 1]];
    const m = maskHeatmap(data);
    expect(m.graded).toBe(true);
    const d = decodePng(m.png(), [m.cellCenter(0, 0), m.cellCenter(0, 1)]);
    // lowest and highest values take the ends of viridis (128 levels)
    expect(d.at[0]).toEqual(colormap("viridis", 0));
    expect(d.at[1]).toEqual(colormap("viridis", 1));
    expect(m.toString()).toContain("graded values min 0.5, mean 1, max 1.5");
  });

  it("labels DropConnect weight masks and rejects bad shapes", () => {
    const m = maskHeatmap({ shape: [3, 4], data: [1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0] }, { kind: "weights" });
    expect(m.toString()).toMatch(/^weights mask \[3, 4\]: kept 50\.0%/);
    expect(() => maskHeatmap({ shape: [3, 4], data: [1, 2] })).toThrow(/needs 12 values/);
    expect(() => maskHeatmap([1, 0, 1] as never)).toThrow(/dimensions/);
    expect(() => maskHeatmap([[1, 0], [1]])).toThrow(/ragged/);
  });
});
