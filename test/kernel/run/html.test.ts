/** `dropout-lab run --html`: the executed notebook as one self-contained page, SVG outputs kept as data: URIs. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "../../../kernel/client.js";

describe.skipIf(!existsSync("/usr/bin/jupyter-nbconvert"))("dropout-lab run --html", () => {
  it("writes the page beside the executed notebook with the markdown, the text result and the SVG drawing", () => {
    const dir = mkdtempSync(join(tmpdir(), "dl-html-"));
    const cells = [
      { cell_type: "markdown", metadata: {}, source: "# A page about circles" },
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: 'display(svg`<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="8" fill="teal"/></svg>`);\n6 * 7' },
    ];
    writeFileSync(join(dir, "in.ipynb"), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
    execFileSync(process.execPath, [CLI, "run", join(dir, "in.ipynb"), "-o", join(dir, "out"), "--html"], { stdio: "pipe" });
    const html = readFileSync(join(dir, "out/in.html"), "utf8");
    expect(html).toContain("A page about circles");
    expect(html).toContain("42");
    const uri = /<img src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)">/.exec(html);
    expect(uri).not.toBeNull();
    expect(Buffer.from(uri![1]!, "base64").toString()).toContain('<circle cx="10" cy="10" r="8" fill="teal"/>');
  }, 120_000);
});
