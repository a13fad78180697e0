import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { histogram, imageGrid, modelSummary, resultsTable, tensorView, uncertaintyPlot, colormap, lossPlot, maskHeatmap, svg, png } from "../../src/plot/index.js";
import { Sequential, Linear, Dropout, Tensor, key } from "../../src/index.js";
import { glyph, textWidth } from "../../src/plot/font.js";
import { Raster } from "../../src/plot/raster.js";
import { bundleOf, decodePng, lcg, parseXml } from "./helpers.js";

describe("imageGrid", () => {
  it("tiles 784-input weights as 28 × 28 images with a diverging map per tile", () => {
    const rnd = lcg(3);
    const data = Float32Array.from({ length: 16 * 784 }, () => rnd() - 0.5);
    data[0] = -10; // tile 0, pixel (0, 0): the tile's most negative weight
    data[784 + 1] = 10; // tile 1, pixel (0, 1): the tile's most positive weight
    const g = imageGrid({ shape: [16, 784], data }, { title: "fc1 filters", maxCell: 2 });
    expect(g.tiles).toHaveLength(16);
    expect(g.tiles[0].lo).toBe(-10);
    const d = decodePng(g.png());
    expect(d.width).toBeGreaterThan(4 * 28 * 2);
    expect(g.toString()).toContain("16 tiles, 28×28 each, from [16, 784]");
    expect(() => imageGrid({ shape: [2, 10], data: new Float32Array(20) })).toThrow(/tileShape/);
    expect(imageGrid({ shape: [2, 10], data: new Float32Array(20) }, { tileShape: [2, 5] }).tiles[0].rows).toBe(2);
  });

  it("reads [inputs, units] columns and [N, C, H, W] filters", () => {
    const cols = imageGrid({ shape: [4, 3], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, { tilesAlong: "cols" });
    expect(cols.tiles).toHaveLength(3);
    expect([0, 1, 2, 3].map((i) => cols.tiles[1].at(Math.floor(i / 2), i % 2))).toEqual([1, 4, 7, 10]);
    const conv = imageGrid({ shape: [2, 3, 3, 3], data: new Float32Array(54) });
    expect(conv.tiles).toHaveLength(6);
    expect(decodePng(conv.png()).width).toBeGreaterThan(0);
  });
});

describe("histogram", () => {
  it("bins values, marks each mean and draws a legend", () => {
    const a = [0, 0, 0, 1, 2, 3], b = [1, 1, 1, 1];
    const h = histogram({ "no dropout": a, dropout: b }, { bins: 3, title: "activations" });
    expect(h.edges).toEqual([0, 1, 2, 3]);
    expect(h.series[0].counts).toEqual([3, 1, 2]);
    expect(h.series[1].counts).toEqual([0, 4, 0]);
    const nodes = parseXml(h.svg());
    const means = nodes.filter((n) => n.attrib.class === "mean-marker");
    expect(means.map((m) => m.text)).toEqual(["mean 1", "mean 1"]);
    expect(nodes.filter((n) => n.attrib.class === "legend-entry").map((n) => n.text)).toEqual(["no dropout", "dropout"]);
    expect(h.toString()).toContain("no dropout: n 6, mean 1");
  });

  it("counts values outside a given range apart", () => {
    const h = histogram({ shape: [5], data: [-5, 0.1, 0.2, 0.9, 7] }, { range: [0, 1], bins: 2 });
    expect(h.series[0].counts).toEqual([2, 1]);
    expect(h.series[0].outside).toBe(2);
    expect(h.toString()).toContain("2 outside the range");
    expect(() => histogram([NaN])).toThrow(/finite/);
  });
});

describe("uncertaintyPlot", () => {
  it("draws mean ± std bars per class and summarises predictions", () => {
    const p = uncertaintyPlot({ mean: [[0.7, 0.3], [0.4, 0.6]], std: [[0.1, 0.1], [0.3, 0.2]] }, { classNames: ["cat", "dog"], labels: [0, 0] });
    const nodes = parseXml(p.svg());
    const bars = nodes.filter((n) => n.attrib.class === "class-bar");
    expect(bars).toHaveLength(4);
    expect(bars[3].text).toContain("dog: 0.6 ± 0.2");
    expect(p.toString()).toContain("example 1: predicted dog (0.6 ± 0.2), true cat");
    expect(() => uncertaintyPlot({ mean: [[1, 0]], std: [[1]] })).toThrow(/differ in shape/);
  });
});

describe("tensorView", () => {
  it("summarises any tensor and draws 2-D ones", () => {
    const t = tensorView({ shape: [2, 3], data: new Float32Array([-1, 0, 1, 2, 3, 4]) });
    const b = bundleOf(t);
    expect(b["text/plain"]).toBe("Tensor float32 [2, 3] (6 values)\nmin -1, max 4, mean 1.5, std 1.708\n[[-1, 0, 1],\n [2, 3, 4]]");
    const d = decodePng(t.png());
    expect(d.nonBackground).toBeGreaterThan(6 * 24 * 24); // six cells of at most 24 px, plus labels and bar
    const v = bundleOf(tensorView({ shape: [10], data: new Float64Array(10), dtype: "int32" }));
    expect(v["text/plain"]).toContain("Tensor int32 [10]");
    expect(v["text/plain"]).toContain("[0, 0, 0, …, 0, 0, 0]");
    expect(v["image/png"]).toBeUndefined();
    expect(inspect(t)).toBe(b["text/plain"]); // consoles print the summary, not the object's insides
  });
});

describe("tables", () => {
  it("puts ours beside the paper's in HTML, Markdown and text, escaping", () => {
    const t = resultsTable([
      { method: "no <dropout>", paper: 1.6, ours: 1.71 },
      { method: "dropout | p=0.5", paper: 1.25, ours: 1.2 },
    ], { title: "MNIST test error (%)", compare: { ours: "ours", paper: "paper", label: "ours − paper" } });
    const b = bundleOf(t);
    const html = b["text/html"] as string;
    const nodes = parseXml(html);
    expect(nodes.filter((n) => n.tag === "td").map((n) => n.text)).toEqual(["no <dropout>", "1.6", "1.71", "+0.11", "dropout | p=0.5", "1.25", "1.2", "-0.05"]);
    expect(b["text/markdown"]).toContain("| dropout \\| p=0.5 | 1.25 | 1.2 | -0.05 |");
    expect(b["text/markdown"]).toContain("|:---|---:|---:|---:|");
    expect((b["text/plain"] as string).split("\n")[1]).toBe("method           paper  ours  ours − paper");
  });

  it("summarises a model with totals", () => {
    const m = modelSummary([
      { name: "fc1", type: "Linear", outputShape: [null, 1024], params: 803840 },
      { name: "drop1", type: "Dropout", outputShape: [null, 1024], params: 0, dropout: 0.5 },
    ]);
    expect(m.totalParams).toBe(803840);
    const b = bundleOf(m);
    expect(b["text/plain"]).toMatch(/\ndrop1 +Dropout +\[N, 1024\] +0 +0\.5\n/);
    expect((b["text/plain"] as string).split("\n").at(-1)).toMatch(/^total\s+803,840$/);
    expect(parseXml(b["text/html"] as string).filter((n) => n.tag === "tr")).toHaveLength(4);
  });

  it("summarises a model itself, with output shapes from an example batch in evaluation mode", () => {
    const drop = new Dropout(0.5, { key: key(1), recordMasks: true });
    const model = new Sequential(new Linear(4, 8, { activation: "relu", key: key(2) }), drop, new Linear(8, 2, { key: key(3) }));
    const text = modelSummary(model, { input: new Tensor(new Float32Array(12), [3, 4]), title: "mlp" }).toString().split("\n");
    expect(text[0]).toBe("mlp");
    expect(text[3]).toMatch(/^0 +Linear\(4, 8, activation=relu\) +\[N, 8\] +40$/);
    expect(text[4]).toMatch(/^1 +Dropout\(p=0\.5\) +\[N, 8\] +0 +0\.5$/);
    expect(text[5]).toMatch(/^2 +Linear\(8, 2\) +\[N, 2\] +18$/);
    expect(text.at(-1)).toMatch(/^total +58$/);
    expect(drop.lastMask).toBeNull(); // no mask drawn: evaluation mode
    expect(model.training).toBe(true); // modes restored
    expect(modelSummary(model).toString()).toMatch(/\n1 +Dropout\(p=0\.5\) +0 +0\.5\n/); // no shapes without input
    expect(() => modelSummary(drop, { input: new Tensor(new Float32Array(4), [1, 4]) })).toThrow(/need a Sequential/);
    expect(() => modelSummary(42 as never)).toThrow(/expected a model/);
  });
});

describe("svg() and png() for tslab and files", () => {
  it("return the SVG text and the PNG bytes an object displays", () => {
    const plot = lossPlot([{ name: "a", y: [3, 2, 1] }]);
    expect(svg(plot)).toBe(plot.svg());
    const mask = maskHeatmap({ shape: [2, 3], data: [1, 0, 1, 0, 1, 0] });
    expect(png(mask)).toEqual(mask.png());
    expect(decodePng(png(mask)).width).toBeGreaterThan(3);
    expect(() => png(plot)).toThrow(/shows no PNG \(it offers text\/plain, image\/svg\+xml, application\/vnd.vegalite.v5\+json\)/);
    expect(() => svg(new Tensor(new Float32Array(1), [1]))).toThrow(/shows no SVG/);
    expect(() => svg({})).toThrow(/Jupyter.display/);
  });
});

describe("colour maps and font", () => {
  it("hits the control points and interpolates", () => {
    expect(colormap("viridis", 0)).toEqual([68, 1, 84]);
    expect(colormap("viridis", 1)).toEqual([253, 231, 37]);
    expect(colormap("diverging", 0.5)).toEqual([247, 247, 247]);
    expect(colormap("grey", 0.5)).toEqual([128, 128, 128]);
    expect(() => colormap("jet" as never, 0)).toThrow(/unknown colour map/);
  });

  it("draws glyphs of 7 rows (9 with descenders) and unknown characters as '?'", () => {
    for (const ch of "0123456789AZaz.-%gpy") expect([7, 9]).toContain(glyph(ch).length);
    expect(glyph("€")).toEqual(glyph("?"));
    expect(textWidth("ab", 2)).toBe(22);
    const r = new Raster(12, 9);
    r.text(0, 0, "1", r.color([0, 0, 0]), 1);
    // "1": top row 00100 → one pixel at column 2; bottom row 01110
    expect(Array.from(r.pixels.subarray(0, 5))).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(r.pixels.subarray(6 * 12, 6 * 12 + 5))).toEqual([0, 1, 1, 1, 0]);
  });
});
