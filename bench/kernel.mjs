// The kernel bench: our kernel and tslab (the peer, a devDependency) measured in the same run, both spawned
// and driven over real ZeroMQ sockets by the same client (dist/kernel/client.js; run `npm run build:ts` first).
//   node bench/kernel.mjs [--quick]
// Prints a table, then as its last line one JSON object of the figures (milliseconds unless named otherwise).
//   ready_ms            spawn → first kernel_info_reply (median of STARTS starts)
//   first_cell_ms       the first `1 + 1` cell right after that reply (execute_reply and idle)
//   trivial_cell_ms     median round trip of `1 + 1` (execute_reply and idle), TRIVIAL cells after warm-up
//   kernel_info_ms      median kernel_info round trip (to the reply): the protocol's own share of a cell
//   trivial_compile_ms, trivial_commit_ms, trivial_run_ms, trivial_executor_ms
//                       ours, in process (bench/kernel-trivial.mjs): compiler check, commit, evaluator thread
//                       round trip without compiler, executor with compiler
//   hotloop_ratio       a loop over top-level `let`s as a cell (round trip minus the trivial median) over the
//                       same code as a plain node ES module (timed inside the script)
//   outputs_after_idle  over OUTPUT_CELLS cells that print, await and return a value: iopub messages that
//                       arrive for a request after its idle (should be 0)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { KernelClient, ROOT } from "../dist/kernel/client.js";
import { trivialAttribution } from "./kernel-trivial.mjs";

const quick = process.argv.includes("--quick");
const STARTS = quick ? 3 : 7;
const WARMUP = 20;
const TRIVIAL = quick ? 50 : 300;
const HOT_RUNS = quick ? 2 : 5;
const OUTPUT_CELLS = quick ? 100 : 1000;
const ATTRIBUTION_CELLS = quick ? 20 : 100;
/** Loop sizes: ours runs the full loop; tslab's is slower by ~50x, so it runs a fortieth and is compared at that size. */
const OURS_N = 2e8;
const TSLAB_N = 5e6;

const KERNELS = {
  kernel: { argv: undefined, cwd: undefined },
  tslab: { argv: [process.execPath, join(ROOT, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"], cwd: ROOT },
};

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};
const median = (xs) => quantile(xs, 0.5);
const spread = (xs) => `${quantile(xs, 0.1).toFixed(2)}–${quantile(xs, 0.9).toFixed(2)}`;
const round = (x, digits = 2) => Number(x.toFixed(digits));

const executeContent = (code) => ({ code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });

/** Runs one cell; resolves with [round trip ms (reply and idle), reply, iopub messages through idle]. */
async function cell(client, code, timeoutMs = 60_000) {
  const t0 = performance.now();
  const [reply, iopub] = await client.request("shell", "execute_request", executeContent(code), timeoutMs);
  const ms = performance.now() - t0;
  if (reply.content.status !== "ok") throw new Error(`cell ${JSON.stringify(code)} failed: ${JSON.stringify(reply.content)}`);
  return [ms, reply, iopub];
}

/** Spawns a kernel; resolves with the client, ms to the first kernel_info_reply, and the first cell's ms. */
async function start(name) {
  const client = await KernelClient.start({ argv: KERNELS[name].argv, cwd: KERNELS[name].cwd });
  try {
    const id = await client.send("shell", "kernel_info_request");
    await client.reply("shell", id, 60_000);
    const readyMs = performance.now() - client.spawnedAt;
    await client.iopubUntilIdle(id, 60_000).catch(() => client.ready(60_000)); // iopub may not have been subscribed yet
    const [firstMs] = await cell(client, "1 + 1");
    return { client, readyMs, firstMs };
  } catch (e) {
    await client.close();
    throw new Error(`${name}: ${e.message}\n${client.stderr.join("")}`);
  }
}

/** The hot loop as a plain ES module, timed inside the script (median of HOT_RUNS). */
function plainLoop(n) {
  const dir = mkdtempSync(join(tmpdir(), "dl-bench-plain-"));
  const file = join(dir, "loop.mjs");
  writeFileSync(file, `const t0 = performance.now();\nlet s = 0; for (let i = 0; i < ${n}; i++) { s += i % 7; } s;\nconsole.log(performance.now() - t0);\n`);
  const times = [];
  for (let r = 0; r < HOT_RUNS; r++) times.push(Number(execFileSync(process.execPath, [file], { encoding: "utf8" })));
  rmSync(dir, { recursive: true, force: true });
  return times;
}

async function measure(name, hotN) {
  const starts = [];
  for (let r = 0; r < STARTS; r++) {
    const s = await start(name);
    starts.push(s);
    if (r < STARTS - 1) await s.client.close();
  }
  const { client } = starts[starts.length - 1];
  try {
    for (let r = 0; r < WARMUP; r++) await cell(client, "1 + 1");
    const trivial = [];
    for (let r = 0; r < TRIVIAL; r++) trivial.push((await cell(client, "1 + 1"))[0]);
    const trivialMedian = median(trivial);
    const info = [];
    for (let r = 0; r < TRIVIAL; r++) {
      const t0 = performance.now();
      const id = await client.send("shell", "kernel_info_request");
      await client.reply("shell", id, 60_000);
      info.push(performance.now() - t0);
      if (name === "kernel") await client.iopubUntilIdle(id); // tslab publishes no status for kernel_info
    }
    const hot = [];
    for (let r = 0; r < HOT_RUNS; r++) {
      hot.push((await cell(client, `let s = 0; for (let i = 0; i < ${hotN}; i++) { s += i % 7; } s`, 600_000))[0] - trivialMedian);
    }
    let afterIdle = null;
    if (name === "kernel") afterIdle = await outputsAfterIdle(client);
    return {
      ready: starts.map((s) => s.readyMs),
      first: starts.map((s) => s.firstMs),
      trivial,
      info,
      hot,
      afterIdle,
    };
  } finally {
    await client.close();
  }
}

/** Cells that print, await and return a value; counts iopub messages for each request that arrive after its idle. */
async function outputsAfterIdle(client) {
  const ids = new Set();
  for (let k = 0; k < OUTPUT_CELLS; k++) {
    const [, reply] = await cell(client, `console.log(${k}); await new Promise((r) => setTimeout(r, 0)); ${k}`);
    ids.add(reply.parentHeader.msg_id);
  }
  await new Promise((r) => setTimeout(r, 500));
  return client.inbox.iopub.drain().filter((m) => ids.has(m.parentHeader.msg_id)).length;
}

const plainOurs = plainLoop(OURS_N);
const plainTslab = plainLoop(TSLAB_N);
const ours = await measure("kernel", OURS_N);
const tslab = await measure("tslab", TSLAB_N);
const parts = await trivialAttribution(ATTRIBUTION_CELLS);

const row = (label, xs, unit = "ms") => `${label.padEnd(44)} ${median(xs).toFixed(2).padStart(9)} ${unit}   (p10–p90 ${spread(xs)}, n=${xs.length})`;
const ratioOurs = median(ours.hot) / median(plainOurs);
const ratioTslab = median(tslab.hot) / median(plainTslab);
console.log(`kernel bench (load average ${loadavg().map((x) => x.toFixed(1)).join(" ")})`);
console.log(row("dropout-lab ready (spawn → kernel_info_reply)", ours.ready));
console.log(row("tslab ready", tslab.ready));
console.log(row("dropout-lab first cell after ready", ours.first));
console.log(row("tslab first cell after ready", tslab.first));
console.log(row("dropout-lab trivial cell 1 + 1", ours.trivial));
console.log(row("tslab trivial cell 1 + 1", tslab.trivial));
console.log(row("dropout-lab kernel_info round trip", ours.info));
console.log(row("tslab kernel_info round trip", tslab.info));
console.log(
  `dropout-lab trivial cell in process, medians of ${ATTRIBUTION_CELLS}: compiler check ${parts.compile.toFixed(2)} ms + commit ` +
    `${parts.commit.toFixed(2)} ms; evaluator thread round trip ${parts.run.toFixed(2)} ms; executor with compiler ${parts.executor.toFixed(2)} ms`,
);
console.log(row(`plain node loop, ${OURS_N.toExponential()} iterations`, plainOurs));
console.log(row(`dropout-lab loop cell, ${OURS_N.toExponential()}`, ours.hot) + `  ratio ${ratioOurs.toFixed(2)}x`);
console.log(row(`plain node loop, ${TSLAB_N.toExponential()} iterations`, plainTslab));
console.log(row(`tslab loop cell, ${TSLAB_N.toExponential()}`, tslab.hot) + `  ratio ${ratioTslab.toFixed(2)}x`);
console.log(`dropout-lab outputs after idle over ${OUTPUT_CELLS} cells: ${ours.afterIdle}`);
console.log(
  JSON.stringify({
    kernel_ready_ms: round(median(ours.ready), 1),
    tslab_ready_ms: round(median(tslab.ready), 1),
    kernel_first_cell_ms: round(median(ours.first), 1),
    tslab_first_cell_ms: round(median(tslab.first), 1),
    kernel_trivial_cell_ms: round(median(ours.trivial)),
    tslab_trivial_cell_ms: round(median(tslab.trivial)),
    kernel_info_ms: round(median(ours.info)),
    tslab_kernel_info_ms: round(median(tslab.info)),
    kernel_trivial_compile_ms: round(parts.compile),
    kernel_trivial_commit_ms: round(parts.commit),
    kernel_trivial_run_ms: round(parts.run),
    kernel_trivial_executor_ms: round(parts.executor),
    kernel_hotloop_ratio: round(ratioOurs),
    tslab_hotloop_ratio: round(ratioTslab),
    kernel_hotloop_iterations: OURS_N,
    tslab_hotloop_iterations: TSLAB_N,
    kernel_outputs_after_idle: ours.afterIdle,
    kernel_output_cells: OUTPUT_CELLS,
    load_average: round(loadavg()[0], 1),
  }),
);
