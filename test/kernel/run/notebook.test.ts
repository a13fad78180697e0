import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  OutputCollector,
  injectParameters,
  parseParameters,
  readNotebook,
  writeNotebook,
  type Notebook,
} from "../../../kernel/run/notebook.js";

const dir = mkdtempSync(join(tmpdir(), "dl-nb-"));
const msg = (msg_type: string, content: Record<string, unknown>) => ({ header: { msg_type }, content });

function notebook(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: {},
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# Title" },
      { cell_type: "code", metadata: { tags: ["parameters"] }, source: ['let budget = "smoke";\n', "let seed = 0;"], execution_count: null, outputs: [] },
      { cell_type: "code", metadata: {}, source: "seed + 1", execution_count: null, outputs: [] },
    ],
  };
}

describe("reading notebooks", () => {
  it("names the file and the defect", () => {
    const truncated = join(dir, "truncated.ipynb");
    writeFileSync(truncated, '{"nbformat": 4, "cells": [');
    expect(() => readNotebook(truncated)).toThrow(/truncated\.ipynb: not a notebook: invalid JSON/);
    const v3 = join(dir, "v3.ipynb");
    writeFileSync(v3, '{"nbformat": 3, "worksheets": []}');
    expect(() => readNotebook(v3)).toThrow(/v3\.ipynb: not an nbformat 4 notebook \(nbformat is 3\)/);
    const badCell = join(dir, "badcell.ipynb");
    writeFileSync(badCell, '{"nbformat": 4, "cells": [{"cell_type": "code"}]}');
    expect(() => readNotebook(badCell)).toThrow(/badcell\.ipynb: cell 0 has no source/);
    expect(() => readNotebook(join(dir, "missing.ipynb"))).toThrow(/missing\.ipynb: cannot read notebook/);
  });
});

describe("parameters", () => {
  it("keeps JSON types and treats the rest as strings", () => {
    expect(parseParameters(["budget=full", "seed=3", "rates=[0.2,0.5]", 'name="x y"'])).toEqual({
      budget: "full",
      seed: 3,
      rates: [0.2, 0.5],
      name: "x y",
    });
    expect(() => parseParameters(["1x=2"])).toThrow(/not of the form name=value/);
    expect(() => parseParameters(["seed"])).toThrow(/not of the form name=value/);
  });

  it("injects one cell after the parameters cell, replacing an earlier one", () => {
    const nb = notebook();
    injectParameters(nb, { seed: 7 });
    injectParameters(nb, { seed: 8, budget: "full", extra: true });
    const tags = nb.cells.map((c) => (c.metadata as { tags?: string[] }).tags?.[0] ?? "");
    expect(tags).toEqual(["", "parameters", "injected-parameters", ""]);
    // `let` parameters are assigned, so their declared types check the values; new names are declared.
    expect(nb.cells[2]!.source).toEqual(["seed = 8;\n", 'budget = "full";\n', "const extra = true;\n"]);
  });
});

describe("collecting outputs", () => {
  it("merges streams, updates displays by id and honours clear_output(wait)", () => {
    const c = new OutputCollector();
    c.add(msg("stream", { name: "stdout", text: "a\n" }));
    c.add(msg("stream", { name: "stdout", text: "b" }));
    c.add(msg("stream", { name: "stderr", text: "warn\n" }));
    c.add(msg("display_data", { data: { "text/plain": "0%" }, metadata: {}, transient: { display_id: "p" } }));
    c.add(msg("update_display_data", { data: { "text/plain": "100%" }, metadata: {}, transient: { display_id: "p" } }));
    c.add(msg("execute_result", { execution_count: 3, data: { "text/plain": "42" }, metadata: {} }));
    expect(c.saved()).toEqual([
      { output_type: "stream", name: "stdout", text: ["a\n", "b"] },
      { output_type: "stream", name: "stderr", text: ["warn\n"] },
      { output_type: "display_data", data: { "text/plain": "100%" }, metadata: {} },
      { output_type: "execute_result", execution_count: 3, data: { "text/plain": "42" }, metadata: {} },
    ]);
    c.add(msg("clear_output", { wait: true }));
    expect(c.saved()).toHaveLength(4);
    c.add(msg("stream", { name: "stdout", text: "after\n" }));
    expect(c.saved()).toEqual([{ output_type: "stream", name: "stdout", text: ["after\n"] }]);
    c.add(msg("clear_output", { wait: false }));
    expect(c.saved()).toEqual([]);
  });
});

describe("writing notebooks", () => {
  it("writes nbformat 4.5 with unique cell ids that Jupyter's own validator accepts", () => {
    const nb = notebook();
    injectParameters(nb, { seed: 1 });
    (nb.cells[3] as { outputs: unknown[] }).outputs = [{ output_type: "stream", name: "stdout", text: ["2\n"] }];
    nb.cells[0]!.id = "dup";
    nb.cells[1]!.id = "dup";
    const path = join(dir, "out.ipynb");
    writeNotebook(path, nb);
    const saved = JSON.parse(readFileSync(path, "utf8"));
    expect(saved.nbformat_minor).toBe(5);
    expect(new Set(saved.cells.map((c: { id: string }) => c.id)).size).toBe(4);
    const check = "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')";
    expect(execFileSync("/usr/bin/python3", ["-c", check, path], { encoding: "utf8" }).trim()).toBe("valid");
  });
});
