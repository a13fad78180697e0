// The kernel bench: our kernel and tslab (the peer, a devDependency) measured in the same run, both spawned
// and driven over real ZeroMQ sockets by the same client (dist/kernel/client.js; run `npm run build:ts` first).
//   node bench/kernel.mjs [--quick]
// Prints a table, then as its last line one JSON object of the figures (milliseconds unless named otherwise).
//   ready_ms            spawn → first kernel_info_reply (median of STARTS starts)
//   first_cell_ms       the first `1 + 1` cell right after that reply (execute_reply and idle)
//   trivial_cell_ms     median round trip of `1 + 1` (execute_reply and idle), TRIVIAL cells after warm-up
//                       (ours remembers a cell it checked while nothing the cell depends on changed: this is
//                       the common re-run of a cell, and its figure alone would hide the check)
//   trivial_distinct_cell_ms
//                       the same for DISTINCT cells `1 + <n>`, each one new (so each one type-checked); run
//                       after the other figures, as tslab may stop answering over many cells
//   kernel_info_ms      median kernel_info round trip (to the reply): the protocol's own share of a cell
//   trivial_compile_ms, trivial_commit_ms, trivial_run_ms, trivial_executor_ms
//                       ours, in process (bench/kernel-trivial.mjs): compiler check, commit, evaluator thread
//                       round trip (JavaScript cells), executor with its compiler thread
//   trivial_compile_distinct_ms, trivial_executor_distinct_ms
//                       the compiler check and the executor for distinct cells
//   hotloop_ratio       a loop over top-level `let`s, timed by the code itself (performance.now() around the
//                       loop, printed), as a cell over the same text as a plain node ES module. Runs alternate
//                       (plain, cell, plain, cell, ...) so that the machine's load falls on both alike; the
//                       figure is the median of the per-pair ratios, with a distribution-free confidence
//                       interval for that median (order statistics of the ratios, coverage printed)
//   hotloop_cell_ratio  the same cells' round trips (execute_request to idle, compile and output included)
//                       less the trivial median, over the plain loop: what the user waits for
//   outputs_after_idle  over OUTPUT_CELLS cells that print, await and return a value: iopub messages that
//                       arrive for a request after its idle (should be 0)
//   tslab_lost_cells    the peer's requests whose reply or iopub messages never came (see cell()), left out of its
//                       figures
//   tslab_failed_starts the peer's starts that never answered (see measure()), made again
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
const HOT_PAIRS = quick ? 7 : 15;
const OUTPUT_CELLS = quick ? 100 : 1000;
const ATTRIBUTION_CELLS = quick ? 20 : 100;
const DISTINCT = quick ? 50 : 150;
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

/** How long the peer may take to reply to a short request, or to send a cell's idle after its reply, before
 * the request counts as lost. */
const LOST_AFTER_MS = 5_000;

/**
 * Runs one cell; resolves with [round trip ms (reply and idle), reply, iopub messages through idle]. Our
 * kernel must answer every cell in full: a missing reply or idle throws. tslab now and then drops a message
 * (with zeromq 6 it does not wait for one send before the next): a cell's reply, or its iopub messages after
 * busy, never come, and it goes on answering. With `lost` given, such a cell is counted in lost.cells and its
 * round trip is NaN, left out of the figures.
 */
async function cell(client, code, timeoutMs = 60_000, lost = undefined) {
  const t0 = performance.now();
  const id = await client.send("shell", "execute_request", executeContent(code));
  let reply;
  try {
    reply = await client.reply("shell", id, timeoutMs);
    if (reply.content.status !== "ok") throw new Error(`cell ${JSON.stringify(code)} failed: ${JSON.stringify(reply.content)}`);
    const iopub = await client.iopubUntilIdle(id, lost ? LOST_AFTER_MS : timeoutMs);
    return [performance.now() - t0, reply, iopub];
  } catch (e) {
    if (!lost || (reply && reply.content.status !== "ok")) throw e;
    lost.cells++;
    return [NaN, reply, []];
  }
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

/** The hot loop: the same text as a cell and as a plain ES module; it prints the loop's own time in ms. */
const hotLoop = (n) => `const t0 = performance.now();\nlet s = 0; for (let i = 0; i < ${n}; i++) { s += i % 7; }\nconsole.log(performance.now() - t0);\n`;

/** Runs the hot loop as a plain node ES module; resolves with the time it printed. */
function plainLoop(file) {
  return Number(execFileSync(process.execPath, [file], { encoding: "utf8" }));
}

/** Stdout text of a cell's iopub messages. */
const stdoutOf = (iopub) => iopub.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout").map((m) => m.content.text).join("");

/**
 * HOT_PAIRS alternating runs of the loop as a plain script and as a cell (a pair whose cell the peer lost is
 * run again); resolves with the plain times, the cells' printed times and the cells' round trips.
 */
async function hotPairs(client, n, lost) {
  const dir = mkdtempSync(join(tmpdir(), "dl-bench-plain-"));
  const file = join(dir, "loop.mjs");
  writeFileSync(file, hotLoop(n));
  const plain = [];
  const inCell = [];
  const roundTrip = [];
  try {
    while (plain.length < HOT_PAIRS) {
      const plainMs = plainLoop(file);
      const [ms, , iopub] = await cell(client, hotLoop(n), 600_000, lost);
      if (Number.isNaN(ms)) {
        if (lost.cells > HOT_PAIRS) throw new Error(`lost ${lost.cells} cells`);
        continue;
      }
      plain.push(plainMs);
      const printed = Number(stdoutOf(iopub));
      if (!Number.isFinite(printed)) throw new Error(`the loop cell printed ${JSON.stringify(stdoutOf(iopub))}`);
      inCell.push(printed);
      roundTrip.push(ms);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { plain, inCell, roundTrip };
}

/** log of the binomial coefficient (n choose k). */
const logChoose = (n, k) => {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
};

/**
 * A distribution-free confidence interval for the median of `xs`: [x(k), x(n+1-k)] for the largest k whose
 * coverage 1 - 2 P(Binomial(n, 1/2) < k) is at least 90%.
 */
function medianInterval(xs) {
  const s = sorted(xs);
  const n = s.length;
  const below = (k) => {
    let p = 0;
    for (let i = 0; i < k; i++) p += Math.exp(logChoose(n, i) - n * Math.LN2);
    return p;
  };
  let k = 1;
  while (k + 1 <= n / 2 && 1 - 2 * below(k + 1) >= 0.9) k++;
  return { low: s[k - 1], high: s[n - k], coverage: 1 - 2 * below(k) };
}

async function measure(name, hotN) {
  const peer = name === "tslab";
  // tslab now and then never answers a fresh start's first request: such a start is counted, and another made.
  let failedStarts = 0;
  const starts = [];
  while (starts.length < STARTS) {
    const s = await start(name).catch((e) => {
      if (!peer || ++failedStarts > STARTS) throw e;
      console.error(`${name}: a start failed, starting again: ${e.message.split("\n")[0]}`);
    });
    if (!s) continue;
    starts.push(s);
    if (starts.length < STARTS) await s.client.close();
  }
  const { client } = starts[starts.length - 1];
  const lost = peer ? { cells: 0 } : undefined;
  const timed = (xs) => xs.filter((ms) => !Number.isNaN(ms));
  try {
    // A short cell waits LOST_AFTER_MS for a peer's reply before it counts as lost.
    const short = peer ? LOST_AFTER_MS : undefined;
    for (let r = 0; r < WARMUP; r++) await cell(client, "1 + 1", short, lost);
    const trivial = [];
    for (let r = 0; r < TRIVIAL; r++) trivial.push((await cell(client, "1 + 1", short, lost))[0]);
    const trivialMedian = median(timed(trivial));
    const info = [];
    for (let r = 0; r < TRIVIAL; r++) {
      const t0 = performance.now();
      const id = await client.send("shell", "kernel_info_request");
      if (peer) {
        // tslab publishes no status for kernel_info, and may drop the reply (see cell()).
        const answered = await client.reply("shell", id, LOST_AFTER_MS).then(() => true, () => false);
        if (answered) info.push(performance.now() - t0);
        else lost.cells++;
      } else {
        await client.reply("shell", id, 60_000);
        info.push(performance.now() - t0);
        await client.iopubUntilIdle(id);
      }
    }
    const hot = await hotPairs(client, hotN, lost);
    hot.cellOverhead = hot.roundTrip.map((ms) => ms - trivialMedian);
    let afterIdle = null;
    if (name === "kernel") afterIdle = await outputsAfterIdle(client);
    const distinct = [];
    try {
      for (let r = 0; r < DISTINCT; r++) distinct.push((await cell(client, `1 + ${r}`, short, lost))[0]);
    } catch (e) {
      console.error(`${name} stopped answering after ${distinct.length} distinct cells, that figure is NaN: ${e.message.split("\n")[0]}`);
      distinct.splice(0, distinct.length, NaN);
    }
    return {
      ready: starts.map((s) => s.readyMs),
      first: starts.map((s) => s.firstMs),
      trivial: timed(trivial),
      distinct: timed(distinct),
      info,
      hot,
      afterIdle,
      lostCells: lost?.cells ?? 0,
      failedStarts,
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

const loadStart = loadavg();
const ours = await measure("kernel", OURS_N);
// The peer's figures read NaN (null in the JSON) when tslab itself stops answering, rather than losing ours.
const tslab = await measure("tslab", TSLAB_N).catch((e) => {
  console.error(`tslab stopped answering, its figures are NaN: ${e.message.split("\n")[0]}`);
  return { ready: [NaN], first: [NaN], trivial: [NaN], distinct: [NaN], info: [NaN], hot: { plain: [NaN], inCell: [NaN] }, lostCells: NaN, failedStarts: NaN };
});
const parts = await trivialAttribution(ATTRIBUTION_CELLS);

const row = (label, xs, unit = "ms") => `${label.padEnd(44)} ${median(xs).toFixed(2).padStart(9)} ${unit}   (p10–p90 ${spread(xs)}, n=${xs.length})`;
const ratios = (hot) => hot.inCell.map((t, i) => t / hot.plain[i]);
const ratioOurs = median(ratios(ours.hot));
const ratioTslab = median(ratios(tslab.hot));
const ciOurs = medianInterval(ratios(ours.hot));
const ciTslab = medianInterval(ratios(tslab.hot));
const cellRatioOurs = median(ours.hot.cellOverhead) / median(ours.hot.plain);
const loads = (l) => l.map((x) => x.toFixed(1)).join(" ");
console.log(`kernel bench (load average ${loads(loadStart)} at the start, ${loads(loadavg())} at the end)`);
console.log(row("dropout-lab ready (spawn → kernel_info_reply)", ours.ready));
console.log(row("tslab ready", tslab.ready));
console.log(row("dropout-lab first cell after ready", ours.first));
console.log(row("tslab first cell after ready", tslab.first));
console.log(row("dropout-lab trivial cell 1 + 1", ours.trivial));
console.log(row("tslab trivial cell 1 + 1", tslab.trivial));
console.log(row("dropout-lab trivial distinct cells 1 + <n>", ours.distinct));
console.log(row("tslab trivial distinct cells 1 + <n>", tslab.distinct));
console.log(row("dropout-lab kernel_info round trip", ours.info));
console.log(row("tslab kernel_info round trip", tslab.info));
console.log(
  `dropout-lab trivial cell in process, medians of ${ATTRIBUTION_CELLS}: compiler check ${parts.compile.toFixed(2)} ms + commit ` +
    `${parts.commit.toFixed(2)} ms; evaluator thread round trip ${parts.run.toFixed(2)} ms; executor with its compiler thread ${parts.executor.toFixed(2)} ms (script reused)`,
);
console.log(
  `dropout-lab distinct trivial cells in process: compiler check ${parts.compileDistinct.toFixed(2)} ms + commit ` +
    `${parts.commitDistinct.toFixed(2)} ms; executor with its compiler thread ${parts.executorDistinct.toFixed(2)} ms`,
);
const ratioLine = (label, r, ci) =>
  `${label.padEnd(44)} ${r.toFixed(2).padStart(9)} x    (${(ci.coverage * 100).toFixed(0)}% CI of the median ${ci.low.toFixed(2)}–${ci.high.toFixed(2)})`;
console.log(row(`plain node loop, ${OURS_N.toExponential()} iterations`, ours.hot.plain));
console.log(row(`dropout-lab loop cell, ${OURS_N.toExponential()}, own timing`, ours.hot.inCell));
console.log(ratioLine("dropout-lab loop / plain, pairs", ratioOurs, ciOurs));
console.log(row(`dropout-lab loop cell round trip - trivial`, ours.hot.cellOverhead) + `  ratio ${cellRatioOurs.toFixed(2)}x`);
console.log(row(`plain node loop, ${TSLAB_N.toExponential()} iterations`, tslab.hot.plain));
console.log(row(`tslab loop cell, ${TSLAB_N.toExponential()}, own timing`, tslab.hot.inCell));
console.log(ratioLine("tslab loop / plain, pairs", ratioTslab, ciTslab));
console.log(`dropout-lab outputs after idle over ${OUTPUT_CELLS} cells: ${ours.afterIdle}`);
console.log(`tslab requests whose reply or iopub messages never came (left out of its figures): ${tslab.lostCells}; starts that never answered: ${tslab.failedStarts}`);
console.log(
  JSON.stringify({
    kernel_ready_ms: round(median(ours.ready), 1),
    tslab_ready_ms: round(median(tslab.ready), 1),
    kernel_first_cell_ms: round(median(ours.first), 1),
    tslab_first_cell_ms: round(median(tslab.first), 1),
    kernel_trivial_cell_ms: round(median(ours.trivial)),
    tslab_trivial_cell_ms: round(median(tslab.trivial)),
    kernel_trivial_distinct_cell_ms: round(median(ours.distinct)),
    tslab_trivial_distinct_cell_ms: round(median(tslab.distinct)),
    kernel_info_ms: round(median(ours.info)),
    tslab_kernel_info_ms: round(median(tslab.info)),
    kernel_trivial_compile_ms: round(parts.compile),
    kernel_trivial_commit_ms: round(parts.commit),
    kernel_trivial_run_ms: round(parts.run),
    kernel_trivial_executor_ms: round(parts.executor),
    kernel_trivial_compile_distinct_ms: round(parts.compileDistinct),
    kernel_trivial_executor_distinct_ms: round(parts.executorDistinct),
    kernel_hotloop_ratio: round(ratioOurs),
    kernel_hotloop_ratio_ci: [round(ciOurs.low), round(ciOurs.high)],
    kernel_hotloop_cell_ratio: round(cellRatioOurs),
    tslab_hotloop_ratio: round(ratioTslab),
    tslab_hotloop_ratio_ci: [round(ciTslab.low), round(ciTslab.high)],
    hotloop_pairs: HOT_PAIRS,
    hotloop_ci_coverage: round(ciOurs.coverage, 3),
    kernel_hotloop_iterations: OURS_N,
    tslab_hotloop_iterations: TSLAB_N,
    kernel_outputs_after_idle: ours.afterIdle,
    kernel_output_cells: OUTPUT_CELLS,
    tslab_lost_cells: tslab.lostCells,
    tslab_failed_starts: tslab.failedStarts,
    load_average: round(loadStart[0], 1),
    load_average_end: round(loadavg()[0], 1),
  }),
);
