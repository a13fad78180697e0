// Hot loop over top-level variables: a TypeScript cell run by the executor vs the same code as a plain
// node script. Needs the build (npm run build:ts). Usage: node bench/kernel-exec-hotloop.mjs [iterations]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExecutor } from "../dist/kernel/exec/index.js";

const N = Number(process.argv[2] ?? 2e8);
const RUNS = 5;
const setup = `let a = 0; let b = 1; const N = ${N};`;
const loop = `a = 0; const t0 = performance.now(); for (let i = 0; i < N; i++) { a = (a + i * b) % 1000003; } const ms = performance.now() - t0;`;
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** The loop as a plain script: an ES module (top-level bindings in module scope) and CommonJS (function scope). */
const plainRun = (type) => {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(process.execPath, [`--input-type=${type}`, "-e", `${setup} ${loop} console.log(ms)`], { encoding: "utf8" });
    times.push(Number(out));
  }
  return median(times);
};
const plainModule = plainRun("module");
const plainScript = plainRun("commonjs");

const dir = mkdtempSync(join(tmpdir(), "dropout-lab-bench-"));
const executor = createExecutor({ cwd: dir });
await executor.start();
let count = 0;
const cell = async (code) => {
  const outcome = await executor.execute(code, {
    executionCount: ++count, silent: false, storeHistory: true, allowStdin: false,
    onEvent: () => undefined, onInputRequest: async () => "",
  });
  if (outcome.status !== "ok") throw new Error(JSON.stringify(outcome));
  return outcome.result?.data["text/plain"];
};
await cell(setup);
const kernel = [];
for (let r = 0; r < RUNS; r++) kernel.push(Number(await cell(`${loop}\nms`)));
const timeCells = async (code) => {
  const times = [];
  for (let r = 0; r < 200; r++) {
    const t0 = performance.now();
    await cell(code);
    times.push(performance.now() - t0);
  }
  return median(times);
};
const trivial = await timeCells("1 + 1");
await executor.shutdown();
rmSync(dir, { recursive: true, force: true });

const k = median(kernel);
console.log(`hot loop, ${N} iterations, median of ${RUNS}: kernel cell ${k.toFixed(0)} ms;`);
console.log(`  plain node ES module ${plainModule.toFixed(0)} ms (ratio ${(k / plainModule).toFixed(2)}x),`);
console.log(`  plain node CommonJS script ${plainScript.toFixed(0)} ms (ratio ${(k / plainScript).toFixed(2)}x)`);
console.log(`trivial cell "1 + 1" through the executor (type-check + run), median of 200: ${trivial.toFixed(2)} ms`);
