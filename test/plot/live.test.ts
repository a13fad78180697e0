/** plot.live(): the fit callback behind the live training view, driven by the real `fit`. */
import { afterEach, describe, expect, it } from "vitest";
import { Sequential, Linear, SGD, Tensor, fit, key, randn, plot, type Dataset } from "../../src/index.js";
import type { Displayable } from "../../src/plot/index.js";
import { bundleOf, parseXml } from "./helpers.js";

type Opts = { displayId: string; update?: boolean };

function recorder() {
  const calls: { obj: Displayable; opts: Opts }[] = [];
  return { calls, display: (obj: Displayable, opts: Opts) => void calls.push({ obj, opts }) };
}

function data(n: number): Dataset {
  const x = randn(key(1), [n, 3]);
  const y = new Float32Array(n).map((_, i) => i % 2);
  for (let i = 0; i < n; i++) x.data[i * 3] += y[i] ? 1.5 : -1.5;
  return { x, y: new Tensor(y, [n]) };
}

const net = () => new Sequential(new Linear(3, 8, { activation: "relu", key: key(2) }), new Linear(8, 2, { key: key(3) }));

describe("plot.live", () => {
  afterEach(() => {
    delete (globalThis as { display?: unknown }).display;
    delete (globalThis as { Deno?: unknown }).Deno;
  });

  it("shows fit's batches and epochs under one display id and ends on the final state", async () => {
    const r = recorder();
    const m = net();
    const live = plot.live({ display: r.display, minIntervalMs: 0, title: "blobs" });
    const h = await fit(m, data(40), { epochs: 3, batchSize: 16, optimizer: new SGD(m.parameters(), { lr: 0.1 }), validation: data(20), key: key(4), callbacks: [live] });
    // unthrottled: 3 batches and one epoch end per epoch, then the final state on close
    expect(r.calls).toHaveLength(3 * 3 + 3 + 1);
    const id = live.progress!.displayId;
    expect(r.calls[0].opts).toEqual({ displayId: id });
    for (const c of r.calls.slice(1)) expect(c.opts).toEqual({ displayId: id, update: true });
    const texts = r.calls.map((c) => bundleOf(c.obj)["text/plain"] as string);
    expect(texts[0]).toMatch(/^blobs: epoch 1\/3 {2}\[#{3}-{21}\] 11% {2}batch 1\/3 {2}loss [\d.]+ {2}ETA /);
    expect(texts[0]).toContain(`loss ${+h.batches[0].loss.toPrecision(4)}`);
    const e = h.epochs[2];
    const final = `epoch 3/3  [${"#".repeat(24)}] 100%  batch 3/3  trainLoss ${+e.trainLoss.toPrecision(4)}  trainAcc ${+e.trainAcc!.toPrecision(4)}  ` +
      `valLoss ${+e.valLoss!.toPrecision(4)}  valAcc ${+e.valAcc!.toPrecision(4)}  done in`;
    expect(texts.at(-1)).toContain(final);
    // the final curve: a training line through every batch loss and one validation dot per epoch
    const html = bundleOf(r.calls.at(-1)!.obj)["text/html"] as string;
    const nodes = parseXml(html.slice(html.indexOf("<svg"), html.indexOf("</svg>") + 6));
    expect(nodes.find((n) => n.attrib.class === "train")!.attrib.d.split(/[M ]/).filter(Boolean)).toHaveLength(2 * 9);
    expect(nodes.filter((n) => n.tag === "circle")).toHaveLength(3);
    expect(nodes.filter((n) => n.tag === "text").map((n) => n.text)).toEqual(expect.arrayContaining(["train loss", "val loss"]));
  });

  it("throttles on the clock and still shows the last state", async () => {
    const r = recorder();
    let now = 0;
    const m = net();
    const live = plot.live({ display: r.display, now: () => (now += 100) }); // every clock read advances 100 ms
    await fit(m, data(64), { epochs: 4, batchSize: 8, optimizer: new SGD(m.parameters(), { lr: 0.1 }), key: key(5), callbacks: [live] });
    expect(r.calls.length).toBeGreaterThan(2);
    expect(r.calls.length).toBeLessThan(4 * 8 / 2); // 36 updates, each at least 250 ms after the last render
    expect(bundleOf(r.calls.at(-1)!.obj)["text/plain"]).toMatch(/^epoch 4\/4 .* batch 8\/8 {2}trainLoss [\d.]+ {2}trainAcc [\d.]+ {2}done in/);
  });

  it("uses the kernel's global display, else Deno's, and says so when there is neither", async () => {
    expect(() => plot.live()).toThrow(/no display function.*globalThis.display/);
    const deno: { bundle: Record<string, unknown>; opts: unknown }[] = [];
    (globalThis as { Deno?: unknown }).Deno = { jupyter: { display: (bundle: Record<string, unknown>, opts: unknown) => void deno.push({ bundle, opts }) } };
    const viaDeno = plot.live({ minIntervalMs: 0, displayId: "d" });
    const r = recorder();
    (globalThis as { display?: unknown }).display = r.display;
    const viaGlobal = plot.live({ minIntervalMs: 0 });
    const m = net();
    await fit(m, data(8), { epochs: 1, batchSize: 8, optimizer: new SGD(m.parameters(), { lr: 0.1 }), key: key(6), callbacks: [viaDeno, viaGlobal] });
    expect(r.calls.map((c) => c.opts.update ?? false)).toEqual([false, true, true]);
    expect(deno.map((d) => d.opts)).toEqual([
      { raw: true, display_id: "d", update: false }, { raw: true, display_id: "d", update: true }, { raw: true, display_id: "d", update: true },
    ]);
    expect(deno[2].bundle["text/plain"]).toMatch(/^epoch 1\/1 .*done in/);
  });

  it("shows nothing for zero epochs", async () => {
    const r = recorder();
    const m = net();
    await fit(m, data(8), { epochs: 0, optimizer: new SGD(m.parameters(), { lr: 0.1 }), callbacks: [plot.live({ display: r.display })] });
    expect(r.calls).toHaveLength(0);
  });
});
