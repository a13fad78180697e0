// Where a trivial cell's time goes, below the sockets: the TypeScript compiler alone, in process (check +
// transpile, then commit), the executor with cells passed through as JavaScript (the evaluator thread's round
// trip: post, REPL-mode evaluation, result back), and the executor with its compiler thread (what the kernel
// calls per cell). Each for the same cell `1 + 1` again and again (the compiler remembers a cell it checked
// while nothing it depends on changed, and the executor then reuses its script without asking the compiler
// thread) and for distinct cells `1 + <n>` (each one checked in the compiler thread, which sends it on to
// the evaluator). Needs the build (npm run build:ts).
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
/** The r-th cell: the same one, or a distinct one each time. */
const SAME = () => CODE;
const DISTINCT = (r) => `1 + ${r}`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Cells passed to the evaluator as they are (JavaScript), without type-checking. */
const javascript = () => ({
  compile: (code) => ({ ok: true, js: code }),
  commit: () => undefined,
  complete: () => ({ matches: [], cursorStart: 0, cursorEnd: 0, metadata: {} }),
  inspect: () => ({ found: false, data: {} }),
  isComplete: () => ({ status: "unknown" }),
});

async function timeExecutor(dir, cells, compiler, code) {
  const executor = createExecutor({ cwd: dir, compiler });
  await executor.start();
  let count = 0;
  const times = [];
  try {
    for (let r = 0; r < WARMUP + cells; r++) {
      const t0 = performance.now();
      const outcome = await executor.execute(code(r), {
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

function timeCompiler(dir, cells, code) {
  const compiler = new CellCompiler({ cwd: dir, kernelRoot: ROOT });
  const check = [];
  const commit = [];
  for (let r = 0; r < WARMUP + cells; r++) {
    const t0 = performance.now();
    const compiled = compiler.compile(code(r), `cell${r + 1}.ts`);
    const t1 = performance.now();
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    compiler.commit(code(r));
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
    const { check, commit } = timeCompiler(dir, cells, SAME);
    const distinct = timeCompiler(dir, cells, DISTINCT);
    const run = median(await timeExecutor(dir, cells, javascript, SAME));
    const executor = median(await timeExecutor(dir, cells, undefined, SAME));
    const executorDistinct = median(await timeExecutor(dir, cells, undefined, DISTINCT));
    return {
      compile: median(check),
      commit: median(commit),
      compileDistinct: median(distinct.check),
      commitDistinct: median(distinct.commit),
      run,
      executor,
      executorDistinct,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cells = Number(process.argv[2] ?? 200);
  const a = await trivialAttribution(cells);
  console.log(`trivial cell ${JSON.stringify(CODE)} (and distinct ones, "1 + <n>"), medians of ${cells}:`);
  console.log(`  compiler, same cell: check + transpile ${a.compile.toFixed(2)} ms, commit ${a.commit.toFixed(2)} ms`);
  console.log(`  compiler, distinct cells: check + transpile ${a.compileDistinct.toFixed(2)} ms, commit ${a.commitDistinct.toFixed(2)} ms`);
  console.log(`  evaluator thread round trip (executor with JavaScript cells) ${a.run.toFixed(2)} ms`);
  console.log(`  executor with its compiler thread: same cell ${a.executor.toFixed(2)} ms (script reused), distinct cells ${a.executorDistinct.toFixed(2)} ms`);
}
