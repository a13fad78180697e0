import { describe, expect, it } from "vitest";
import { liveProgress, type Displayable } from "../../src/plot/index.js";
import { bundleOf, parseXml } from "./helpers.js";

function recorder() {
  const calls: { obj: Displayable; opts: { displayId: string; update?: boolean } }[] = [];
  return { calls, display: (obj: Displayable, opts: { displayId: string; update?: boolean }) => { calls.push({ obj, opts }); } };
}

describe("liveProgress", () => {
  it("throttles to the interval on an injected clock and updates one display id", () => {
    let now = 0;
    const r = recorder();
    const lp = liveProgress({ total: { epochs: 2, batchesPerEpoch: 50 }, display: r.display, now: () => now, minIntervalMs: 250 });
    for (let e = 1; e <= 2; e++) {
      for (let b = 1; b <= 50; b++) {
        now += 20; // 100 updates over 2 s
        lp.update({ epoch: e, batch: b, loss: 1 / (e * 50 + b) });
      }
    }
    // renders at t = 20, 280, 540, … : one per 260 ms of this 20 ms grid over 2000 ms
    expect(r.calls.length).toBe(8);
    expect(r.calls[0].opts).toEqual({ displayId: lp.displayId });
    for (const c of r.calls.slice(1)) expect(c.opts).toEqual({ displayId: lp.displayId, update: true });
    lp.close();
    expect(r.calls.length).toBe(9);
    const final = r.calls[8];
    expect(final.opts).toEqual({ displayId: lp.displayId, update: true });
    const b = bundleOf(final.obj);
    expect(b["text/plain"]).toMatch(/^epoch 2\/2 {2}\[#{24}\] 100% {2}batch 50\/50 {2}loss 0\.006667 {2}done in 2s$/);
    lp.close(); // idempotent
    expect(r.calls.length).toBe(9);
    expect(() => lp.update({ epoch: 3 })).toThrow(/after close/);
  });

  it("shows fraction, ETA and a well-formed curve in HTML", () => {
    let now = 0;
    const r = recorder();
    const lp = liveProgress({ total: { epochs: 4, batchesPerEpoch: 10 }, display: r.display, now: () => now, displayId: "fixed", title: "fit" });
    now = 1000;
    lp.update({ epoch: 1, batch: 5, loss: 2 });
    now = 2000;
    lp.update({ epoch: 1, batch: 10, loss: 1, valLoss: 1.5 });
    const last = bundleOf(r.calls[1].obj);
    // 10 of 40 batches in 2 s: 6 s to go
    expect(last["text/plain"]).toBe("fit: epoch 1/4  [######------------------] 25%  batch 10/10  loss 1  valLoss 1.5  ETA 6s");
    const html = last["text/html"] as string;
    expect(html).toContain("width:25.0%");
    const svg = html.slice(html.indexOf("<svg"), html.indexOf("</svg>") + 6);
    const nodes = parseXml(svg);
    expect(nodes.filter((n) => n.tag === "path").map((n) => n.attrib.class)).toEqual(["train", "val"]);
    expect(nodes.filter((n) => n.tag === "circle")).toHaveLength(1); // valLoss at batch 10
    expect(nodes.filter((n) => n.tag === "text").map((n) => n.text)).toEqual(["train loss", "val loss", "2", "1"]);
    expect(r.calls.every((c) => c.opts.displayId === "fixed")).toBe(true);
  });

  it("renders the last state on close even when throttled", () => {
    let now = 0;
    const r = recorder();
    const lp = liveProgress({ total: 3, display: r.display, now: () => now });
    lp.update({ epoch: 1, loss: 3 });
    lp.update({ epoch: 2, loss: 2 }); // same instant: throttled
    expect(r.calls.length).toBe(1);
    lp.close();
    expect(r.calls.length).toBe(2);
    expect(bundleOf(r.calls[1].obj)["text/plain"]).toContain("epoch 2/3");
  });

  it("needs a display function and a positive total", () => {
    expect(() => liveProgress({ total: 0, display: () => {} })).toThrow(/positive/);
    expect(() => liveProgress({ total: 1, display: undefined as never })).toThrow(/globalThis.display/);
  });
});
