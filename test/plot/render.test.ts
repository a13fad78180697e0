import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lossPlot, maskHeatmap } from "../../src/plot/index.js";
import { DROPPED, KEPT } from "../../src/plot/mask.js";
import { bundleOf, decodePng, lcg } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const NBCONVERT = "/usr/bin/jupyter-nbconvert";
for (const tool of [CHROMIUM, NBCONVERT]) {
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`npm run setup\` (Debian's chromium and jupyter-nbconvert)`);
}

describe("bundles in a notebook rendered by nbconvert and chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "plot-render-"));
  afterAll(() => { if (!process.env.KEEP_RENDER) rmSync(dir, { recursive: true, force: true }); });

  it("draws the loss plot (SVG) and the mask heatmap (PNG)", () => {
    const rnd = lcg(5);
    const epochs = Array.from({ length: 20 }, (_, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), valLoss: 1.2 / (i + 1) + 0.01 * i }));
    const mask = Float32Array.from({ length: 32 * 64 }, () => (rnd() < 0.5 ? 2 : 0));
    const outputs = [bundleOf(lossPlot({ epochs }, { title: "loss" })), bundleOf(maskHeatmap({ shape: [32, 64], data: mask }))].map((data) => ({
      output_type: "display_data", data, metadata: {},
    }));
    const nb = {
      nbformat: 4, nbformat_minor: 5,
      metadata: { kernelspec: { name: "dropout-lab", display_name: "TypeScript (dropout-lab)", language: "typescript" }, language_info: { name: "typescript" } },
      cells: [{ id: "plots", cell_type: "code", execution_count: 1, metadata: {}, source: "display(plot)", outputs }],
    };
    writeFileSync(join(dir, "plots.ipynb"), JSON.stringify(nb));
    // Debian's nbconvert 6.5 runs inline SVG through an HTML sanitizer that strips every SVG element
    // (jupyter/nbconvert#1849; 7.x embeds SVG as an <img> instead, #2018). Do what 7.x does: extract the
    // outputs to files and show the SVG through <img>.
    writeFileSync(join(dir, "svg-as-img.html.j2"), [
      "{%- extends 'lab/index.html.j2' -%}",
      "{% block data_svg scoped -%}",
      `<div class="jp-RenderedSVG jp-OutputArea-output" data-mime-type="image/svg+xml"><img src="{{ output.metadata.filenames['image/svg+xml'] | posix_path | escape_html }}"></div>`,
      "{%- endblock data_svg %}",
    ].join("\n"));
    execFileSync(NBCONVERT, ["--to", "html", "--ExtractOutputPreprocessor.enabled=True", `--template-file=${join(dir, "svg-as-img.html.j2")}`,
      "--output-dir", dir, join(dir, "plots.ipynb")], { stdio: "pipe", timeout: 60_000 });
    const html = readFileSync(join(dir, "plots.html"), "utf8");
    expect(html).toMatch(/<img src="plots_files\/[^"]+\.svg"/);
    expect(html).toMatch(/<img src="plots_files\/[^"]+\.png"/);
    const shot = join(dir, "shot.png");
    execFileSync(CHROMIUM, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
      "--window-size=1200,900", `--screenshot=${shot}`, `file://${join(dir, "plots.html")}`], { stdio: "pipe", timeout: 60_000 });
    const [train, val, kept, dropped] = decodePng(shot, [], [[0, 114, 178], [213, 94, 0], KEPT, DROPPED], 40).near;
    expect(train).toBeGreaterThan(300); // the train curve's blue
    expect(val).toBeGreaterThan(300); // the val curve's orange
    const kept0 = mask.filter((v) => v !== 0).length;
    expect(kept).toBeGreaterThan(kept0 * 0.8 * 4); // each cell is at least 2 × 2 px here
    expect(dropped).toBeGreaterThan((mask.length - kept0) * 0.8 * 4);
  });
});
