import { describe, expect, it } from "vitest";
import { run, startExecutor } from "./helpers.js";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/1Ps8NwAAAABJRU5ErkJggg==";

describe("display", async () => {
  const executor = await startExecutor();

  it("shows objects with the Jupyter.display symbol with their bundle, as display and as result", async () => {
    await run(
      executor,
      `class Card { constructor(t) { this.t = t; }
         [Symbol.for("Jupyter.display")]() { return { "text/html": "<i>" + this.t + "</i>" }; } }`,
    );
    const r = await run(executor, `display(new Card("shown")); new Card("result")`);
    expect(r.events).toEqual([
      { type: "display", data: { "text/html": "<i>shown</i>", "text/plain": "Card { t: 'shown' }" }, metadata: {} },
    ]);
    expect(r.outcome).toEqual({
      status: "ok",
      result: { data: { "text/html": "<i>result</i>", "text/plain": "Card { t: 'result' }" }, metadata: {} },
    });
  });

  it("keeps a text/plain the object provides", async () => {
    const r = await run(executor, `({ [Symbol.for("Jupyter.display")]: () => ({ "text/plain": "mine", "application/json": { a: 1 } }) })`);
    expect(r.outcome).toMatchObject({ result: { data: { "text/plain": "mine", "application/json": { a: 1 } } } });
  });

  it("sniffs PNG and JPEG bytes and SVG documents", async () => {
    const png = await run(executor, `Buffer.from("${PNG}", "base64")`);
    expect(png.outcome).toMatchObject({ result: { data: { "image/png": PNG, "text/plain": "<PNG image, 70 bytes>" } } });
    const jpeg = await run(executor, `new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])`);
    expect(jpeg.outcome).toMatchObject({ result: { data: { "image/jpeg": "/9j/4AAQ" } } });
    const plainBytes = await run(executor, `new Uint8Array([1, 2])`);
    expect(plainBytes.outcome).toMatchObject({ result: { data: { "text/plain": "Uint8Array(2) [ 1, 2 ]" } } });
    expect(Object.keys((plainBytes.outcome as { result: { data: object } }).result.data)).toEqual(["text/plain"]);
    const svgDoc = `<?xml version="1.0"?>\\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>`;
    const svg = await run(executor, `display("${svgDoc.replace(/"/g, '\\"')}")`);
    expect(svg.events[0]).toMatchObject({ type: "display", data: { "image/svg+xml": svgDoc.replace("\\n", "\n") } });
    expect(svg.outcome).toEqual({ status: "ok" });
  });

  it("has html, svg and md helpers that interpolate values", async () => {
    const r = await run(executor, `const n = 3; display(md\`# \${n} items\`); svg\`<svg><circle r="\${n}"/></svg>\``);
    expect(r.events).toEqual([{ type: "display", data: { "text/markdown": "# 3 items", "text/plain": "# 3 items" }, metadata: {} }]);
    expect(r.outcome).toMatchObject({ result: { data: { "image/svg+xml": '<svg><circle r="3"/></svg>' } } });
  });

  it("updates displays by id with metadata", async () => {
    const r = await run(
      executor,
      `display("step 1", { displayId: "progress", metadata: { tag: 1 } }); display("step 2", { displayId: "progress", update: true });`,
    );
    expect(r.events).toEqual([
      { type: "display", data: { "text/plain": "'step 1'" }, metadata: { tag: 1 }, displayId: "progress" },
      { type: "display", data: { "text/plain": "'step 2'" }, metadata: {}, displayId: "progress", update: true },
    ]);
    const bad = await run(executor, `display(1, { update: true })`);
    expect(bad.outcome).toMatchObject({ status: "error", ename: "TypeError", evalue: "display(): update needs a displayId" });
  });

  it("reports a display method that throws or returns nonsense as the cell's error", async () => {
    const throwing = await run(executor, `({ [Symbol.for("Jupyter.display")]() { throw new RangeError("no picture"); } })`);
    expect(throwing.outcome).toMatchObject({ status: "error", ename: "RangeError", evalue: "no picture" });
    const nonsense = await run(executor, `display({ [Symbol.for("Jupyter.display")]: () => 5 })`);
    expect(nonsense.outcome).toMatchObject({ status: "error", ename: "TypeError" });
  });

  it("puts help() text into a pager payload", async () => {
    const r = await run(executor, `function area(r) { return Math.PI * r * r; }\nhelp(area)`);
    expect(r.outcome).toEqual({
      status: "ok",
      payload: [{ source: "page", data: { "text/plain": "function area(r) { return Math.PI * r * r; }\n\n[Function: area]" }, start: 0 }],
    });
  });
});
