// `npm run bench`: backend kernel speed per backend and thread count, the training workloads of
// bench/workloads.mjs, and PyTorch's figures for the same work measured in the same run (bench/torch_bench.py,
// when Debian's python3 has torch). Prints a table, then one JSON object as the last line.
// Needs the build (`npm run build`); `--no-torch` skips PyTorch, `--no-kernel` the kernel bench (bench/kernel.mjs),
// `--quick` shortens the kernel bench. Other processes on the machine change absolute numbers: compare rows
// of one run, and repeat runs.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { loadavg } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const lib = join(here, "../dist/src/backend/index.js");
if (!existsSync(lib)) {
  console.error("bench: dist/ is missing; run `npm run build` first");
  process.exit(1);
}
const B = await import(lib);
const { workloads } = await import("./workloads.mjs");

const rows = [];
// The machine's 1-minute load average at the start and end: above the core count, other processes took
// turns on our cores and the figures of this run are low.
const figures = { load_start: +loadavg()[0].toFixed(2) };
const t0 = performance.now();
const row = (section, what, config, value, unit) => {
  rows.push({ section, what, config, value, unit });
  // Progress on stderr, so a slow run shows where it is.
  console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${section} ${what} (${config}): ${value.toFixed(1)} ${unit}`);
};

/** CPU time (all threads of this process) per run of the last `best` call, in ms. */
let cpuPerRun = 0;

/**
 * Best wall time in ms of fn over at least `reps` runs and `minMs` milliseconds, after one warm-up run;
 * also sets cpuPerRun, which other processes taking turns on the cores do not inflate.
 */
function best(fn, reps = 5, minMs = 300) {
  fn();
  let bestMs = Infinity;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let runs = 0;
  for (; runs < reps || performance.now() - start < minMs; runs++) {
    const t = performance.now();
    fn();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  cpuPerRun = (cpu.user + cpu.system) / 1000 / runs;
  return bestMs;
}

function filled(n, seed, resident) {
  const a = resident ? B.allocate(n) : new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

const configs = [];
for (const backend of B.availableBackends()) {
  for (const threads of backend === "js" ? [1] : [1, 2]) configs.push({ backend, threads });
}

// Square matmuls through the public API, with operands resident in the backend's memory (arrays from
// B.allocate, as a tensor's storage is inside tidy and as PyTorch's operands are: matmul_gflops_<n>) and with
// plain Float32Arrays that each call copies in and out (matmul_gflops_<n>_copied).
for (const n of [512, 1024]) {
  for (const resident of [true, false]) {
    const kind = resident ? "resident" : "copied";
    let top = 0;
    for (const { backend, threads } of configs) {
      if (backend === "js" && !resident) continue;
      B.useBackend(backend, threads);
      const a = filled(n * n, 1, resident), b = filled(n * n, 2, resident), c = resident ? B.allocate(n * n) : new Float32Array(n * n);
      const ms = backend === "js" ? best(() => B.matmul(a, b, c, n, n, n), 1, 0) : best(() => B.matmul(a, b, c, n, n, n));
      const gflops = (2 * n ** 3) / ms / 1e6;
      const config = `${backend}, ${threads} thread${threads > 1 ? "s" : ""}, ${kind}`;
      const suffix = `${n}_${backend}_${threads}t${resident ? "" : "_copied"}`;
      row("matmul", `${n}³`, config, gflops, "GFLOP/s");
      figures[`matmul_gflops_${suffix}`] = +gflops.toFixed(1);
      // GFLOP per CPU-second of all threads: the single-core rate (1 thread) or the parallel efficiency.
      const perCpu = (2 * n ** 3) / cpuPerRun / 1e6;
      row("matmul", `${n}³ per CPU-second`, config, perCpu, "GFLOP/cpu-s");
      figures[`matmul_gflops_per_cpu_s_${suffix}`] = +perCpu.toFixed(1);
      top = Math.max(top, gflops);
    }
    figures[`matmul_gflops_${n}${resident ? "" : "_copied"}`] = +top.toFixed(1);
  }
}

// The MLP's matmuls (batch 100, 784→800): forward x·Wᵀ, backward dY·W and dYᵀ·X, with plain arrays (copied)
// and with arrays from B.allocate (resident, no copies).
const mlpShapes = [
  ["x·Wᵀ 100×784·(800×784)ᵀ", 100, 800, 784, false, true],
  ["dY·W 100×800·800×784", 100, 784, 800, false, false],
  ["dYᵀ·X (100×800)ᵀ·100×784", 800, 784, 100, true, false],
];
for (const { backend, threads } of configs) {
  if (backend === "js") continue;
  B.useBackend(backend, threads);
  for (const resident of [false, true]) {
    let total = 0;
    for (const [label, m, n, k, ta, tb] of mlpShapes) {
      const a = filled(m * k, 3, resident), b = filled(k * n, 4, resident), c = resident ? B.allocate(m * n) : new Float32Array(m * n);
      const ms = best(() => B.matmul(a, b, c, m, n, k, ta, tb), 20);
      total += ms;
      row("MLP matmul", label, `${backend}, ${threads}t, ${resident ? "resident" : "copied"}`, (2 * m * n * k) / ms / 1e6, "GFLOP/s");
    }
    row("MLP matmul", "all three", `${backend}, ${threads}t, ${resident ? "resident" : "copied"}`, total * 1000, "µs");
    const key = `mlp_matmuls_us_${backend}_${threads}t_${resident ? "resident" : "copied"}`;
    figures[key] = +(total * 1000).toFixed(0);
  }
}

// Fused dropout on one hidden layer's activations (100×800).
for (const { backend, threads } of configs) {
  B.useBackend(backend, threads);
  const n = 100 * 800, x = filled(n, 5, false), out = new Float32Array(n), mask = new Float32Array(n);
  let offset = 0;
  const ms = best(() => B.dropout(1, 2, (offset += n), 0.5, 2, x, out, mask), 20);
  row("dropout", "100×800 mask + apply", `${backend}, ${threads}t`, (ms * 1e6) / n, "ns/unit");
  figures[`dropout_ns_per_unit_${backend}_${threads}t`] = +((ms * 1e6) / n).toFixed(2);
}

// Fused LSTM cell (batch 32, hidden 128), forward then backward, as in each of the LSTM's 784 steps.
for (const { backend, threads } of configs) {
  B.useBackend(backend, threads);
  const bt = 32, h = 128, n = bt * h;
  const gates = filled(4 * n, 6, false), cPrev = filled(n, 7, false), dh = filled(n, 8, false), dc = filled(n, 9, false);
  const c = new Float32Array(n), hOut = new Float32Array(n), act = new Float32Array(4 * n);
  const dGates = new Float32Array(4 * n), dcPrev = new Float32Array(n);
  const ms = best(() => {
    B.lstmForward(gates, cPrev, c, hOut, act, bt, h);
    B.lstmBackward(act, cPrev, c, dh, dc, dGates, dcPrev, bt, h);
  }, backend === "js" ? 5 : 50);
  row("LSTM cell", "32×128 forward + backward", `${backend}, ${threads}t`, ms * 1000, "µs");
  figures[`lstm_cell_us_${backend}_${threads}t`] = +(ms * 1000).toFixed(1);
}
// Our training workloads, on the default backend and thread count (the sections above switched them).
B.useBackend(B.availableBackends()[0]);
for (const w of workloads) {
  const rate = await w.run();
  figures[`${w.key}_samples_per_s`] = +rate.toFixed(1);
  row("training", w.label, `backend ${B.backendName()}`, rate, "samples/s");
}
// Time per sample with dropout (or zoneout) over time per sample without: 1.0 = free.
const overhead = (a, b) => figures[`${a}_samples_per_s`] !== undefined && figures[`${b}_samples_per_s`] !== undefined
  ? +(figures[`${b}_samples_per_s`] / figures[`${a}_samples_per_s`]).toFixed(3) : undefined;
figures.dropout_overhead = overhead("mlp", "mlp_nodropout");
figures.zoneout_overhead = overhead("lstm_zoneout", "lstm");

// RSS growth over 1,000 MLP steps after warm-up, in a fresh process (bench/rss.mjs).
const rss = spawnSync(process.execPath, [...process.execArgv, join(here, "rss.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
if (rss.status !== 0) throw new Error(`rss.mjs failed with status ${rss.status}`);
const mem = JSON.parse(rss.stdout.trim().split("\n").pop());
Object.assign(figures, mem);
row("memory", "RSS, 1,000 MLP steps", `${mem.rss_warm_mb} → ${mem.rss_after_1000_mb} MiB`, mem.rss_growth_pct, "%");

// PyTorch in the same run.
const python = "/usr/bin/python3";
const hasTorch = existsSync(python) && spawnSync(python, ["-c", "import torch"]).status === 0;
const skipTorch = process.argv.includes("--no-torch");
if (hasTorch && !skipTorch) {
  // OpenBLAS picks its own kernels for this CPU: the machine-wide OPENBLAS_CORETYPE/L2_SIZE pins (a
  // safeguard for old OpenBLAS builds) would hold PyTorch to slower AVX2 code, so the peer runs without them.
  const { OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, ...env } = process.env;
  const res = spawnSync(python, [join(here, "torch_bench.py")], {
    env: { ...env, OPENBLAS_NUM_THREADS: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const last = res.stdout.trim().split("\n").pop();
  if (res.status !== 0 || !last) throw new Error(`torch_bench.py failed with status ${res.status}`);
  const torch = JSON.parse(last);
  Object.assign(figures, torch);
  for (const n of [512, 1024]) {
    const t = torch[`torch_matmul_gflops_${n}`];
    row("PyTorch", `matmul ${n}³`, `${torch[`torch_matmul_gflops_${n}_threads`]} thread(s)`, t, "GFLOP/s");
    figures[`matmul_${n}_ratio`] = +(figures[`matmul_gflops_${n}`] / t).toFixed(2);
  }
  for (const key of ["mlp", "mlp_nodropout", "cnn", "lstm"]) {
    const t = torch[`torch_${key}_samples_per_s`];
    row("PyTorch", key, `${torch[`torch_${key}_samples_per_s_threads`]} thread(s)`, t, "samples/s");
    const ours = figures[`${key}_samples_per_s`];
    if (ours !== undefined) figures[`${key}_ratio`] = +(ours / t).toFixed(2);
  }
  const drop = torch.torch_mlp_samples_per_s, noDrop = torch.torch_mlp_nodropout_samples_per_s;
  figures.torch_dropout_overhead = +(noDrop / drop).toFixed(3);
} else {
  console.log(`(PyTorch figures skipped: ${skipTorch ? "--no-torch" : "/usr/bin/python3 cannot import torch"})`);
}

// The kernel beside tslab, in its own process: its table, then its figures.
if (!process.argv.includes("--no-kernel")) {
  const res = spawnSync(process.execPath, [join(here, "kernel.mjs"), ...(process.argv.includes("--quick") ? ["--quick"] : [])], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = res.stdout.trim().split("\n");
  if (res.status !== 0) throw new Error(`kernel.mjs failed with status ${res.status}`);
  console.log(lines.slice(0, -1).join("\n"));
  Object.assign(figures, JSON.parse(lines.at(-1)));
}

const w = [12, 28, 28];
console.log(["section".padEnd(w[0]), "what".padEnd(w[1]), "configuration".padEnd(w[2]), "value"].join("  "));
for (const r of rows) {
  const v = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(r.value >= 10 ? 1 : 2);
  console.log([r.section.padEnd(w[0]), r.what.padEnd(w[1]), r.config.padEnd(w[2]), `${v} ${r.unit}`].join("  "));
}
figures.load_end = +loadavg()[0].toFixed(2);
console.log(JSON.stringify({ backend: B.availableBackends()[0], ...figures }));
