/**
 * An executed notebook as people see it: a small notebook trains with the live view, plots the loss and a
 * dropout mask; Debian's nbclient runs it through our kernel, Debian's nbconvert renders it to HTML and
 * headless Debian chromium screenshots the page. Each output's box must hold the colours it draws.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DROPPED, KEPT } from "../../src/plot/mask.js";
import { decodePng, type PixelBox } from "./helpers.js";
import { joinText, read, runNbclient, type Output } from "../notebooks/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const NBCONVERT = "/usr/bin/jupyter-nbconvert";
for (const tool of [CHROMIUM, NBCONVERT]) {
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`npm run setup\` (Debian's chromium and jupyter-nbconvert)`);
}

const CELLS = [
  `import { Sequential, Linear, Dropout, SGD, Tensor, fit, key, randn, plot } from "dropout-lab";
const x = randn(key(1), [64, 4]);
const y = new Tensor(new Float32Array(64).map((_, i) => i % 2), [64]);
for (let i = 0; i < 64; i++) x.data[i * 4] += y.data[i] ? 1 : -1;
const drop = new Dropout(0.5, { key: key(2), recordMasks: true });
const model = new Sequential(new Linear(4, 48, { activation: "relu", key: key(3) }), drop, new Linear(48, 2, { key: key(4) }));
const h = await fit(model, { x, y }, { epochs: 6, batchSize: 16, optimizer: new SGD(model.parameters(), { lr: 0.1 }), validation: { x, y }, key: key(5), callbacks: [plot.live()] });
h.stopReason`,
  `plot.lossPlot(h, { title: "loss", metrics: ["loss"] })`,
  `plot.maskHeatmap(drop.lastMask!, { title: "last mask" })`,
];

const [BLUE, ORANGE, GREEN]: [number, number, number][] = [[0, 114, 178], [213, 94, 0], [0, 158, 115]];

describe("an executed notebook rendered by nbconvert and chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "plot-render-"));
  afterAll(() => { if (!process.env.KEEP_RENDER) rmSync(dir, { recursive: true, force: true }); });

  it("keeps the live view's final state and draws it, the loss plot (SVG) and the mask heatmap (PNG)", { timeout: 300_000 }, async () => {
    const nb = {
      nbformat: 4, nbformat_minor: 5,
      metadata: { kernelspec: { name: "dropout-lab", display_name: "TypeScript (dropout-lab)", language: "typescript" }, language_info: { name: "typescript" } },
      cells: CELLS.map((source, i) => ({ id: `c${i}`, cell_type: "code", execution_count: null, metadata: {}, source, outputs: [] })),
    };
    writeFileSync(join(dir, "plots.ipynb"), JSON.stringify(nb));
    const executed = await runNbclient(join(dir, "plots.ipynb"));
    const outputs = read(executed).cells.map((c) => c.outputs as Output[]);
    // the live view: one output, replaced in place by its updates, ending on the final state
    expect(outputs[0].map((o) => o.output_type)).toEqual(["display_data", "execute_result"]);
    expect(joinText(outputs[0][1].data!["text/plain"])).toBe("'completed'");
    expect(joinText(outputs[0][0].data!["text/plain"])).toMatch(/^epoch 6\/6 {2}\[#{24}\] 100% {2}batch 4\/4 .*valLoss [\d.]+ .*done in/);
    expect(outputs[1].map((o) => Object.keys(o.data ?? {}).sort())).toEqual([["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]]);
    expect(outputs[2].map((o) => Object.keys(o.data ?? {}).sort())).toEqual([["image/png", "text/plain"]]);

    // Debian's nbconvert 6.5 runs inline SVG through an HTML sanitizer that strips every SVG element
    // (jupyter/nbconvert#1849; 7.x embeds SVG as an <img> instead, #2018). Do what 7.x does: extract the
    // outputs to files and show the SVG through <img>. The footer script records each output's box.
    writeFileSync(join(dir, "svg-as-img.html.j2"), [
      "{%- extends 'lab/index.html.j2' -%}",
      "{% block data_svg scoped -%}",
      `<div class="jp-RenderedSVG jp-OutputArea-output" data-mime-type="image/svg+xml"><img src="{{ output.metadata.filenames['image/svg+xml'] | posix_path | escape_html }}"></div>`,
      "{%- endblock data_svg %}",
    ].join("\n"));
    execFileSync(NBCONVERT, ["--to", "html", "--ExtractOutputPreprocessor.enabled=True", `--template-file=${join(dir, "svg-as-img.html.j2")}`,
      "--output-dir", dir, "--output", "plots", executed], { stdio: "pipe", timeout: 60_000 });
    const page = join(dir, "plots.html");
    const html = readFileSync(page, "utf8");
    expect(html).toMatch(/<img src="plots_files\/[^"]+\.svg"/);
    expect(html).toMatch(/<img src="plots_files\/[^"]+\.png"/);
    expect(html).toContain('class="dropout-lab-progress"');

    // Boxes (CSS px = screenshot px at scale 1): read once the images have loaded, from a copy of the page
    // with a script; the screenshot is taken of the page itself.
    const probe = join(dir, "probe.html");
    writeFileSync(probe, html.replace("</body>", `<script>
addEventListener("load", () => {
  const boxes = [...document.querySelectorAll(".jp-OutputArea-output[data-mime-type], .jp-RenderedImage.jp-OutputArea-output")].map((e) => {
    const shown = e.querySelector("img, .dropout-lab-progress") ?? e;
    const r = shown.getBoundingClientRect();
    // nbconvert's PNG block has no data-mime-type: name it by the extracted file's extension
    return { mime: e.dataset.mimeType ?? shown.getAttribute("src")?.split(".").pop(), x: Math.round(r.x), y: Math.round(r.y + scrollY), w: Math.round(r.width), h: Math.round(r.height) };
  });
  document.body.setAttribute("data-boxes", JSON.stringify(boxes));
});
</script></body>`));
    const window = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1000,1600"];
    const dom = execFileSync(CHROMIUM, [...window, "--virtual-time-budget=5000", "--dump-dom", `file://${probe}`], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).toString();
    const attr = /data-boxes="([^"]*)"/.exec(dom)?.[1];
    expect(attr, "the probe script recorded the output boxes").toBeDefined();
    const boxes = (JSON.parse(attr!.replaceAll("&quot;", '"')) as (PixelBox & { mime: string })[]).filter((b) => b.mime !== "text/plain");
    expect(boxes.map((b) => b.mime)).toEqual(["text/html", "image/svg+xml", "png"]);
    const [progress, loss, mask] = boxes;
    for (const b of boxes) expect(b.y + b.h, `${b.mime} fits in the window`).toBeLessThanOrEqual(1600);
    expect(loss.w).toBeGreaterThan(300);
    expect(mask.w).toBeGreaterThan(100);

    const shot = join(dir, "shot.png");
    execFileSync(CHROMIUM, [...window, `--screenshot=${shot}`, `file://${page}`], { stdio: "pipe", timeout: 60_000 });
    const inBox = decodePng(shot, [], [BLUE, ORANGE, GREEN, KEPT, DROPPED], 40, boxes).boxes;
    const [p, l, m] = inBox;
    // the live view: its full green bar (done) and the train and validation curves
    expect(p.near[2]).toBeGreaterThan(300);
    expect(p.near[0]).toBeGreaterThan(100);
    expect(p.near[1]).toBeGreaterThan(30);
    // the loss plot: train (blue) and validation (orange) curves
    expect(l.near[0]).toBeGreaterThan(300);
    expect(l.near[1]).toBeGreaterThan(300);
    // the mask: about half kept (yellow), half dropped (purple) over most of its box
    expect(m.near[3]).toBeGreaterThan(0.2 * mask.w * mask.h);
    expect(m.near[4]).toBeGreaterThan(0.2 * mask.w * mask.h);
    // and each box is drawn on, not blank
    for (const [i, b] of inBox.entries()) expect(b.nonWhite, boxes[i].mime).toBeGreaterThan(0.02 * boxes[i].w * boxes[i].h);
  });
});
