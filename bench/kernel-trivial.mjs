// Where a trivial cell's time goes, below the sockets: the TypeScript compiler alone (check + transpile, then
// commit), the executor with its compiler (what the kernel calls per cell), and by difference the evaluator
// thread's share (post to the evaluator thread, REPL-mode evaluation, result back). Needs the build (npm run build:ts).
//   node bench/kernel-trivial.mjs [cells]
// bench/kernel.mjs imports `trivialAttribution` and adds the protocol's share (kernel_info round trip).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "../dist/kernel/client.js";
import { createExecutor } from "../dist/kernel/exec/index.js";
import { CellCompiler } from "../dist/kernel/exec/typescript.js";

const WARMUP = 20;
const CODE = "1 + 1";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeExecutor(dir, cells) {
  const executor = createExecutor({ cwd: dir });
  await executor.start();
  let count = 0;
  const times = [];
  try {
    for (let r = 0; r < WARMUP + cells; r++) {
      const t0 = performance.now();
      const outcome = await executor.execute(CODE, {
        executionCount: ++count, silent: false, storeHistory: true, allowStdin: false,
        onEvent: () => undefined, onInputRequest: async () => "",
      });
      if (r >= WARMUP) times.push(performance.now() - t0);
      if (outcome.status !== "ok") throw new Error(JSON.stringify(outcome));
    }
  } finally {
    await executor.shutdown();
  }
  return times;
}

function timeCompiler(dir, cells) {
  const compiler = new CellCompiler({ cwd: dir, kernelRoot: ROOT });
  const check = [];
  const commit = [];
  for (let r = 0; r < WARMUP + cells; r++) {
    const t0 = performance.now();
    const compiled = compiler.compile(CODE, `cell${r + 1}.ts`);
    const t1 = performance.now();
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    compiler.commit(CODE);
    if (r >= WARMUP) {
      check.push(t1 - t0);
      commit.push(performance.now() - t1);
    }
  }
  return { check, commit };
}

/** Medians in ms of `cells` trivial cells after a warm-up, each part in a fresh notebook. */
export async function trivialAttribution(cells = 200) {
  const dir = mkdtempSync(join(tmpdir(), "dl-bench-trivial-"));
  try {
    const { check, commit } = timeCompiler(dir, cells);
    // One executor per process (its inspector session owns the process's NodeWorker domain), so the
    // evaluator's own share is the executor's time less the compiler's.
    const executor = median(await timeExecutor(dir, cells));
    const compile = median(check);
    return { compile, commit: median(commit), run: executor - compile - median(commit), executor };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cells = Number(process.argv[2] ?? 200);
  const a = await trivialAttribution(cells);
  console.log(`trivial cell ${JSON.stringify(CODE)}, medians of ${cells}:`);
  console.log(`  compiler: check + transpile ${a.compile.toFixed(2)} ms, commit ${a.commit.toFixed(2)} ms`);
  console.log(`  evaluator thread round trip (executor less compiler) ${a.run.toFixed(2)} ms`);
  console.log(`  executor with compiler ${a.executor.toFixed(2)} ms`);
}
