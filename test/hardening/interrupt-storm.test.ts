/**
 * Interrupt storm: SIGINT and interrupt_request alternate over synchronous loops, timer-awaiting loops and
 * microtask loops; each stops within 1 s (interrupt sent → error reply) and the variables survive;
 * interrupts while idle are harmless. (Interrupting the library's `fit` is not covered here yet.)
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient } from "../../kernel/client.js";
import { FULL, run, size, waitFor } from "./util.js";

const LOOPS = {
  sync: "while (true) {}",
  timers: "while (true) { await new Promise((r) => setTimeout(r, 5)); }",
  microtasks: "while (true) { await null; }",
} as const;

/** A cell whose type-check takes a while, so an interrupt can arrive before it runs. */
const SLOW_TO_COMPILE = `n++;\n${Array.from({ length: 400 }, (_, i) => `n += [${i}].map((v) => v * 0)[0]!;`).join("\n")}\nwhile (true) {}`;

describe("interrupt storm", () => {
  let k: KernelClient;
  const marker = join(mkdtempSync(join(tmpdir(), "dl-storm-")), "running");
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready(60_000);
    const setup = await run(k, `let n = 0; const mark = () => require("node:fs").writeFileSync(${JSON.stringify(marker)}, ""); n`);
    expect(setup.result).toBe("0");
  }, 120_000);
  afterAll(async () => {
    await k?.close();
  });

  async function interrupt(mode: "signal" | "request"): Promise<void> {
    if (mode === "signal") k.child.kill("SIGINT");
    else {
      const [reply] = await k.request("control", "interrupt_request", {}, 10_000);
      expect(reply.content.status).toBe("ok");
    }
  }

  it("an interrupt that arrives while the cell is still being compiled stops it", async () => {
    for (const mode of ["request", "signal"] as const) {
      const before = Number((await run(k, "n")).result);
      const id = await k.send("shell", "execute_request", { code: SLOW_TO_COMPILE, stop_on_error: false });
      await k.inbox.iopub.next((m) => m.header.msg_type === "execute_input" && m.parentHeader.msg_id === id, 120_000, "execute_input");
      await interrupt(mode);
      const reply = await k.reply("shell", id, 10_000);
      expect(reply.content.ename, mode).toBe("KeyboardInterrupt");
      await k.iopubUntilIdle(id);
      // it stopped before or while running: state is intact either way
      expect(Number((await run(k, "n")).result)).toBeGreaterThanOrEqual(before);
      await run(k, `n = ${before}`);
    }
  }, 120_000);

  it("stops every loop within 1 s by either route; state survives; idle interrupts are harmless", async () => {
    const total = size(12, 100);
    const kinds = Object.keys(LOOPS) as (keyof typeof LOOPS)[];
    const times: number[] = [];
    const byMode = { signal: 0, request: 0 };
    let idle = 0;
    for (let i = 0; i < total; i++) {
      const mode = i % 2 === 0 ? "signal" : "request";
      const kind = kinds[Math.floor(i / 2) % kinds.length]!;
      rmSync(marker, { force: true });
      const id = await k.send("shell", "execute_request", { code: `n++; mark(); ${LOOPS[kind]}`, stop_on_error: false });
      expect(await waitFor(() => existsSync(marker), 60_000, 5), `cell ${i} did not start`).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      await interrupt(mode);
      const reply = await k.reply("shell", id, 10_000);
      const elapsed = performance.now() - t0;
      times.push(elapsed);
      byMode[mode]++;
      expect(reply.content.status).toBe("error");
      expect(reply.content.ename, `${kind} by ${mode}`).toBe("KeyboardInterrupt");
      expect(elapsed, `${kind} loop by ${mode}`).toBeLessThan(1000);
      await k.iopubUntilIdle(id);
      if (i % 5 === 4) {
        // an interrupt of each kind while idle, then state is intact
        await interrupt("signal");
        await interrupt("request");
        idle += 2;
        await new Promise((r) => setTimeout(r, 50));
        const state = await run(k, "n");
        expect(state.reply.content.status).toBe("ok");
        expect(state.result).toBe(String(i + 1));
      }
      k.inbox.iopub.drain();
    }
    const final = await run(k, "n");
    expect(final.result).toBe(String(total));
    expect(k.child.exitCode).toBeNull();
    times.sort((a, b) => a - b);
    const line = `interrupt-storm${FULL ? " (full)" : ""}: interrupts=${total} (SIGINT ${byMode.signal}, interrupt_request ${byMode.request}; ${kinds.join("/")} loops) + ${idle} while idle; stop time median ${times[times.length >> 1]!.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms; state survived (n=${final.result}); crashes=0`;
    console.log(line);
  }, FULL ? 1_200_000 : 240_000);
});
