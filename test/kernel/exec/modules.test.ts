import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resultText, run, startExecutor } from "./helpers.js";

/** A notebook folder outside the package, with its own files and node_modules. */
function notebookFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "dropout-lab-notebook-"));
  writeFileSync(join(dir, "helper.mjs"), "export const twice = (x) => 2 * x;\nexport default 'esm default';\n");
  writeFileSync(join(dir, "legacy.cjs"), "exports.triple = (x) => 3 * x;\n");
  const onlyImport = join(dir, "node_modules", "only-import");
  mkdirSync(join(onlyImport, "lib"), { recursive: true });
  writeFileSync(
    join(onlyImport, "package.json"),
    JSON.stringify({ name: "only-import", type: "module", exports: { ".": { import: "./lib/main.js" }, "./extra": { import: "./lib/extra.js" } } }),
  );
  writeFileSync(join(onlyImport, "lib", "main.js"), "export const where = 'notebook node_modules';\n");
  writeFileSync(join(onlyImport, "lib", "extra.js"), "export const extra = true;\n");
  const shadow = join(dir, "node_modules", "typescript");
  mkdirSync(shadow, { recursive: true });
  writeFileSync(join(shadow, "package.json"), JSON.stringify({ name: "typescript", main: "index.js" }));
  writeFileSync(join(shadow, "index.js"), "exports.version = 'from the notebook folder';\n");
  return dir;
}

describe("modules", async () => {
  const dir = notebookFolder();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const executor = await startExecutor(dir);
  const load = (spec: string) => `await __dropoutLabImport(${JSON.stringify(spec)})`;

  it("imports node built-ins with and without the node: prefix", async () => {
    expect(resultText((await run(executor, `const { join } = ${load("node:path")}; join("a", "b")`)).outcome)).toBe("'a/b'");
    expect(resultText((await run(executor, `(${load("os")}).EOL`)).outcome)).toBe("'\\n'");
  });

  it("imports local ESM and CommonJS files relative to the notebook", async () => {
    const r = await run(executor, `const h = ${load("./helper.mjs")}; const l = ${load("./legacy.cjs")}; [h.twice(4), h.default, l.triple(2)]`);
    expect(resultText(r.outcome)).toBe("[ 8, 'esm default', 6 ]");
  });

  it("resolves packages from the notebook's folder first, ESM-only exports included", async () => {
    expect(resultText((await run(executor, `(${load("only-import")}).where`)).outcome)).toBe("'notebook node_modules'");
    expect(resultText((await run(executor, `(${load("only-import/extra")}).extra`)).outcome)).toBe("true");
    expect(resultText((await run(executor, `(${load("typescript")}).version`)).outcome)).toBe("'from the notebook folder'");
  });

  it("falls back to the kernel's own install for its dependencies and itself", async () => {
    const r = await run(executor, `const zmq = ${load("zeromq")}; typeof zmq.Router`);
    expect(resultText(r.outcome)).toBe("'function'");
    const self = await run(executor, `Object.keys(${load("dropout-lab")}).length > 0`);
    expect(resultText(self.outcome)).toBe("true");
  });

  it("gives require() resolving from the notebook's folder", async () => {
    expect(resultText((await run(executor, `require("./legacy.cjs").triple(5)`)).outcome)).toBe("15");
  });

  it("reports a missing module as the cell's error", async () => {
    const r = await run(executor, load("no-such-package-anywhere"));
    expect(r.outcome).toMatchObject({ status: "error", ename: "Error" });
    expect((r.outcome as { evalue: string }).evalue).toMatch(/^Cannot find module 'no-such-package-anywhere' from \/tmp\//);
  });
});
