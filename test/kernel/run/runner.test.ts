/**
 * `dropout-lab run` end to end through the built CLI: a progress line per cell, parameters injected after the
 * `parameters` cell, a cell that fails, falls silent, loses its kernel or is interrupted named in the exit status
 * and the messages, and outputs kept up to it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "../../../kernel/client.js";

interface Cell { cell_type: string; metadata: { tags?: string[] }; source: string; execution_count: number | null; outputs?: { output_type: string; text?: string[]; ename?: string }[] }

/**
 * Writes a notebook of these code cells (a first one tagged `parameters`) and runs it; resolves with the outcome.
 * `watch` sees the runner's stderr so far each time it grows, and the notebook written so far.
 */
async function run(sources: string[], args: string[] = [], watch?: (stderr: string, child: ChildProcess, saved: () => { cells: Cell[] }) => void) {
  const dir = mkdtempSync(join(tmpdir(), "dl-runner-"));
  const cells = sources.map((source, i) => ({
    cell_type: "code", metadata: i === 0 ? { tags: ["parameters"] } : {}, execution_count: null, outputs: [], source,
  }));
  writeFileSync(join(dir, "in.ipynb"), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
  const child = spawn(process.execPath, [CLI, "run", "in.ipynb", "-o", "out", ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    watch?.(stderr, child, () => JSON.parse(readFileSync(join(dir, "out/in.ipynb"), "utf8")));
  });
  const status = await new Promise<number | null>((r) => child.once("exit", r));
  const nb = JSON.parse(readFileSync(join(dir, "out/in.ipynb"), "utf8")) as { cells: Cell[] };
  return { status, stderr, cells: nb.cells };
}

const text = (c: Cell) => (c.outputs ?? []).flatMap((o) => o.text ?? []).join("");

describe("dropout-lab run", () => {
  it("injects parameters, prints a line per cell, and exits 0 with every output saved", async () => {
    const r = await run(['let who = "nobody";', 'console.log(`hello ${who}`);', "6 * 7"], ["-p", "who=world"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.cells.map((c) => c.metadata.tags ?? [])).toEqual([["parameters"], ["injected-parameters"], [], []]);
    expect(text(r.cells[2]!)).toBe("hello world\n");
    expect(r.stderr).toMatch(/^in\.ipynb: kernel ready in [\d.]+ s; 4 code cells$/m);
    for (const [i, n] of [[0, 1], [1, 2], [2, 3], [3, 4]]) expect(r.stderr).toMatch(new RegExp(`^in\\.ipynb: cell ${i} \\[${n}/4\\] ok in [\\d.]+ s$`, "m"));
    expect(r.stderr).toMatch(/^in\.ipynb: 4 cells in [\d.]+ s → .*out\/in\.ipynb$/m);
    expect(r.stderr).not.toContain("hello world"); // cell output is copied only with --log-output
  }, 60_000);

  it("stops at a failing cell, names it and exits 1, keeping the outputs before it", async () => {
    const r = await run(["let n = 1;", 'console.log("before");', 'throw new RangeError("bad n");', 'console.log("after");'], ["--log-output"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^in\.ipynb: cell 2 \[3\/4\] failed after [\d.]+ s: RangeError: bad n$/m);
    expect(r.stderr).toContain("dropout-lab: failed: in.ipynb (cell 2: RangeError: bad n)");
    expect(r.stderr).toMatch(/^before$/m); // --log-output copied the stream as it ran
    expect(text(r.cells[1]!)).toBe("before\n");
    expect(r.cells[2]!.outputs?.map((o) => o.ename)).toEqual(["RangeError"]);
    expect(r.cells[3]!.outputs).toEqual([]);
    expect(r.stderr).not.toContain("cell 3");
  }, 60_000);

  it("fails a cell that sends nothing for longer than --timeout, keeping what it printed", async () => {
    const started = Date.now();
    const r = await run(["let n = 1;", 'console.log("waiting"); await new Promise((r) => setTimeout(r, 600_000));', "n"], ["--timeout", "15"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^in\.ipynb: cell 1 \[2\/3\] failed after [\d.]+ s: CellTimeout: no message from the kernel for 15 s$/m);
    expect(text(r.cells[1]!)).toBe("waiting\n");
    expect(r.cells[2]!.outputs).toEqual([]);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it("saves the notebook after every cell; on SIGINT interrupts the running cell, saves it and exits 130", async () => {
    let during: Cell[] = [];
    const r = await run(["let n = 1;", 'console.log("spinning"); for (;;) {}', "n"], ["--log-output"], (stderr, child, saved) => {
      if (!stderr.endsWith("spinning\n")) return;
      during = saved().cells;
      child.kill("SIGINT");
    });
    expect(during.map((c) => c.outputs)).toEqual([[], [], []]);
    expect(during.map((c) => c.execution_count)).toEqual([1, null, null]); // cell 0 written before cell 1 ran
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/^in\.ipynb: cell 1 \[2\/3\] failed after [\d.]+ s: KeyboardInterrupt: /m);
    expect(r.stderr).toMatch(/^dropout-lab: interrupted; failed: in\.ipynb \(cell 1: KeyboardInterrupt: /m);
    expect(text(r.cells[1]!)).toBe("spinning\n");
    expect(r.cells[2]!.outputs).toEqual([]);
  }, 60_000);

  it("fails the running cell when the kernel process dies, instead of waiting for it", async () => {
    // The cell's evaluator is a child of the kernel process.
    const r = await run(["let n = 1;", 'console.log("last words"); await new Promise((r) => setTimeout(r, 500)); process.kill(process.ppid, "SIGKILL");', "n"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^in\.ipynb: cell 1 \[2\/3\] failed after [\d.]+ s: KernelDied: the kernel process ended \(killed by a signal\)$/m);
    expect(text(r.cells[1]!)).toBe("last words\n");
    expect(r.cells[2]!.outputs).toEqual([]);
  }, 60_000);
});
