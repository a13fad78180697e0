// The worker pool: identical bits for any thread count, environment overrides, clean exit, and use from
// inside a worker thread.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import * as B from "../../src/backend/index.js";
import { pathToFileURL } from "node:url";
import { bitDiff, compiledBackend, data, removeCompiledBackend } from "./helpers.js";
import { Runtime, availableModules } from "../../src/backend/runtime.js";

afterAll(() => {
  B.shutdown();
  removeCompiledBackend();
});

const wasmBackends = B.availableBackends().filter((b) => b !== "js");

/** Runs every pool-split kernel on shapes large enough to be split; returns the outputs. */
function workload(): Float32Array[] {
  const outs: Float32Array[] = [];
  for (const [m, n, k] of [[100, 800, 784], [259, 131, 517], [640, 10, 700], [37, 301, 2100]] as const) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const c = data(m * n, 3);
      B.matmul(data(m * k, 1), data(k * n, 2), c, m, n, k, ta, tb, true);
      outs.push(c);
    }
  }
  const lin = new Float32Array(100 * 800);
  B.linear(data(100 * 784, 4), data(800 * 784, 5), data(800, 6), lin, 100, 784, 800, "relu");
  outs.push(lin);
  // Dropout (above the size it is split at) with every mask, and its backward from the byte mask.
  const nd = 300_003;
  const out = new Float32Array(nd), mask = new Float32Array(nd), keep = new Uint8Array(nd);
  B.dropout(1, 2, 3, 0.5, 2, data(nd, 7), out, mask, keep);
  const back = new Float32Array(nd);
  B.dropoutApply(keep, 2, data(nd, 17), back);
  outs.push(out, mask, new Float32Array(keep), back);
  const cols = new Float32Array(32 * 25 * 32 * 32);
  B.im2col(data(32 * 32 * 32, 8), cols, 32, 32, 32, 5, 5, 1, 2);
  const dx = data(32 * 32 * 32, 9);
  B.col2im(data(cols.length, 10), dx, 32, 32, 32, 5, 5, 1, 2);
  outs.push(cols, dx);
  const n = 1 << 19;
  const x = B.allocate(n), y = B.allocate(n), r = B.allocate(n);
  x.set(data(n, 11));
  y.set(data(n, 12));
  B.relu(x, r);
  outs.push(r.slice());
  // The optimizer step and zeroing, split over the pool.
  const big = 1 << 20;
  const w = B.allocate(big), gw = B.allocate(big), v = B.allocate(big);
  w.set(data(big, 18));
  gw.set(data(big, 19));
  v.set(data(big, 20));
  B.sgdMomentum(w, gw, v, 0.1, 0.9);
  outs.push(w.slice(), v.slice());
  B.zero(w);
  outs.push(w.slice());
  for (const a of [w, gw, v]) B.release(a);
  const lb = 130, lh = 128, ln = lb * lh;
  const act = new Float32Array(4 * ln), lc = new Float32Array(ln), lhOut = new Float32Array(ln);
  B.lstmForward(data(4 * ln, 13), data(ln, 14), lc, lhOut, act, lb, lh);
  const dGates = new Float32Array(4 * ln), dcPrev = new Float32Array(ln);
  B.lstmBackward(act, data(ln, 14), lc, data(ln, 15), data(ln, 16), dGates, dcPrev, lb, lh);
  outs.push(act, lc, lhOut, dGates, dcPrev);
  // The CNN workload's second convolution (stride 1, straight from padded images) and a 2×2 max pool.
  const cx = data(8 * 32 * 16 * 16, 17), cw = data(64 * 32 * 25, 18), cy = new Float32Array(8 * 64 * 256);
  B.conv2d(cx, cw, data(64, 19), cy, 8, 32, 16, 16, 64, 5, 1, 2);
  const cgw = data(cw.length, 20), cgx = data(cx.length, 21);
  B.conv2dBackward(cx, cw, cy, cgw, cgx, 8, 32, 16, 16, 64, 5, 1, 2);
  const pooled = new Float32Array(8 * 64 * 64), gp = data(cy.length, 22);
  B.maxPool(cy, pooled, 8 * 64, 16, 16, 2, 2, 0);
  B.maxPoolBackward(cy, pooled, gp, 8 * 64, 16, 16, 2, 2, 0);
  outs.push(cy, cgw, cgx, pooled, gp);
  const s = B.allocate(1 << 10);
  B.sumRows(y, s, 1 << 9, 1 << 10);
  outs.push(s.slice());
  return outs;
}

describe("thread count", () => {
  for (const name of wasmBackends) {
    it(`does not change a single bit (${name}, 1 vs 2 threads)`, () => {
      B.useBackend(name, 1);
      const one = workload();
      B.useBackend(name, 2);
      expect(B.threadCount()).toBe(2);
      const two = workload();
      expect(two.length).toBe(one.length);
      for (let i = 0; i < one.length; i++) expect(bitDiff(one[i]!, two[i]!), `output ${i}`).toEqual([]);
    });
  }
});

describe("a worker that has not started", () => {
  it("leaves its share to the calling thread, with the same bits", async () => {
    const name = wasmBackends[0]!;
    // Small enough that the calling thread's share is done long before a sleeping worker can wake.
    const n = 1 << 12;
    const x = data(n, 40), y = data(n, 41), g = data(n, 42);
    const expected = (() => {
      B.useBackend(name, 1);
      const w = x.slice(), v = y.slice();
      B.sgdMomentum(w, g, v, 0.1, 0.9);
      return [w, v];
    })();
    const r = new Runtime(name, availableModules().get(name)!, 2);
    try {
      let byCaller = 0;
      for (let i = 0; i < 4; i++) {
        // The worker sleeps after a moment idle; a short call is then done before it wakes.
        await new Promise((res) => setTimeout(res, 50));
        const w = r.allocate(n), gr = r.allocate(n), v = r.allocate(n);
        w.set(x);
        gr.set(g);
        v.set(y);
        r.run("sgdMomentum", [w.byteOffset, gr.byteOffset, v.byteOffset, 0.1, 0.9, n], 2);
        expect(bitDiff(w, expected[0]!)).toEqual([]);
        expect(bitDiff(v, expected[1]!)).toEqual([]);
        if ((r as unknown as { slots: Int32Array }).slots[1] === -1) byCaller++;
        for (const a of [w, gr, v]) r.free(a);
      }
      expect(byCaller).toBeGreaterThan(0);
    } finally {
      r.shutdown();
    }
  });
});

/** Runs a module script in a fresh node process with the given environment; returns its stdout. */
function child(script: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

const hashScript = (lib: string): string => `
import * as B from ${JSON.stringify(lib)};
import { createHash } from "node:crypto";
const m = 300, n = 500, k = 700, a = new Float32Array(m * k), b = new Float32Array(k * n), c = new Float32Array(m * n);
for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
for (let i = 0; i < b.length; i++) b[i] = Math.cos(i);
B.matmul(a, b, c, m, n, k, false, true);
const x = new Float32Array(300001).map((_, i) => Math.sin(i)), out = new Float32Array(300001), mask = new Float32Array(300001);
B.dropout(5, 6, 7, 0.8, 1.25, x, out, mask);
// A convolution large enough to spread its images over the threads, forward and backward.
const img = new Float32Array(16 * 8 * 16 * 16).map((_, i) => Math.sin(0.3 * i)), wt = new Float32Array(16 * 8 * 25).map((_, i) => Math.cos(i));
const bias = new Float32Array(16).map((_, i) => i / 16), y = new Float32Array(16 * 16 * 256);
B.conv2d(img, wt, bias, y, 16, 8, 16, 16, 16, 5, 1, 2);
const gw = new Float32Array(wt.length), gx = new Float32Array(img.length);
B.conv2dBackward(img, wt, y, gw, gx, 16, 8, 16, 16, 16, 5, 1, 2);
const planes = new Float32Array(256 * 32 * 32).map((_, i) => Math.sin(1.7 * i)), pooled = new Float32Array(256 * 16 * 16), gp = new Float32Array(planes.length);
B.maxPool(planes, pooled, 256, 32, 32, 2, 2, 0);
B.maxPoolBackward(planes, pooled, gp, 256, 32, 32, 2, 2, 0);
const sums = new Float32Array(256);
B.rowSums(planes, sums, 256, 1024);
const h = createHash("sha256");
for (const v of [c, out, mask, y, gw, gx, pooled, gp, sums]) h.update(new Uint8Array(v.buffer));
console.log(JSON.stringify({ backend: B.backendName(), threads: B.threadCount(), hash: h.digest("hex") }));
`;

describe("environment", () => {
  const lib = pathToFileURL(compiledBackend()).href;

  it("DROPOUT_LAB_THREADS=1 and =2 give the same bits in separate processes", () => {
    for (const name of wasmBackends) {
      const one = JSON.parse(child(hashScript(lib), { DROPOUT_LAB_BACKEND: name, DROPOUT_LAB_THREADS: "1" }));
      const two = JSON.parse(child(hashScript(lib), { DROPOUT_LAB_BACKEND: name, DROPOUT_LAB_THREADS: "2" }));
      expect(one.backend).toBe(name);
      expect([one.threads, two.threads]).toEqual([1, 2]);
      expect(two.hash).toBe(one.hash);
    }
  });

  it("DROPOUT_LAB_BACKEND forces each backend, and an unavailable one is an error", () => {
    for (const name of ["js", "simd", "relaxed"]) {
      expect(JSON.parse(child(hashScript(lib), { DROPOUT_LAB_BACKEND: name })).backend).toBe(name);
    }
    expect(() => child(hashScript(lib), { DROPOUT_LAB_BACKEND: "cuda" })).toThrow(/unknown backend "cuda"/);
    expect(() => child(hashScript(lib), { DROPOUT_LAB_THREADS: "two" })).toThrow(/DROPOUT_LAB_THREADS must be a positive integer/);
  });

  it("picks relaxed SIMD by default, also under an explicit V8 flag", () => {
    expect(JSON.parse(child(hashScript(lib), {})).backend).toBe("relaxed");
    const out = execFileSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--input-type=module", "-e", hashScript(lib)], {
      encoding: "utf8",
    });
    expect(JSON.parse(out).backend).toBe("relaxed");
  });

  it("lets a process exit on its own while the pool is idle", () => {
    const started = Date.now();
    const out = child(`import * as B from ${JSON.stringify(lib)}; B.setThreads(2); const c = new Float32Array(512 * 512);
      B.matmul(new Float32Array(512 * 512).fill(1), new Float32Array(512 * 512).fill(1), c, 512, 512, 512);
      console.log(B.threadCount(), c[0]);`, {});
    expect(out.trim()).toBe("2 512");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("runs its pool when the library is loaded inside a worker thread", () => {
    const out = child(`
      import { Worker } from "node:worker_threads";
      const src = ${JSON.stringify(`import * as B from ${JSON.stringify(lib)}; import { parentPort } from "node:worker_threads";
        const c = new Float32Array(400 * 400);
        B.matmul(new Float32Array(400 * 400).fill(0.5), new Float32Array(400 * 400).fill(2), c, 400, 400, 400);
        parentPort.postMessage([B.backendName(), B.threadCount(), c[0], c[c.length - 1]]);`)};
      const w = new Worker(new URL("data:text/javascript," + encodeURIComponent(src)));
      w.on("message", (m) => console.log(JSON.stringify(m)));
      w.on("error", (e) => { console.error(e); process.exit(1); });`, { DROPOUT_LAB_THREADS: "2" });
    expect(JSON.parse(out)).toEqual(["relaxed", 2, 400, 400]);
  });
});

it("hashes differ when the data differ (the comparison above can fail)", () => {
  const h = (a: Float32Array): string => createHash("sha256").update(new Uint8Array(a.buffer)).digest("hex");
  expect(h(data(10, 1))).not.toBe(h(data(10, 2)));
});
