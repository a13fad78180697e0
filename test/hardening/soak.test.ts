/**
 * Soak: many cells through one kernel with a mix of streams, displays, display updates, results and errors.
 * Oracles: every reply arrives, execution counts strictly increase, no iopub message for a request arrives
 * after its idle, the resident memory of the kernel and its evaluator process together grows < 50 MB after
 * warm-up, and a second iopub subscriber receives the same session's output.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subscriber } from "zeromq";
import { KernelClient } from "../../kernel/client.js";
import { decode, Signer } from "../../kernel/wire.js";
import { childrenOf, FULL, rssBytes, run, size } from "./util.js";

const MB = 2 ** 20;

/** Resident memory of the kernel and its child processes (the evaluator), in bytes. */
function kernelRss(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, p) => sum + rssBytes(p), 0);
}

/** Cell i of the mix (only assignments after the first cell, so the notebook's declarations stay few). */
function cell(i: number): string {
  switch (i % 8) {
    case 0:
      return `total += ${i}; total`;
    case 1:
      return `console.log("line", ${i}); console.error("err", ${i});`;
    case 2:
      return `display(html\`<b>${i}</b>\`); display({ "text/plain": "p${i}" }, { displayId: "live" });`;
    case 3:
      return `display({ "text/plain": "u${i}" }, { displayId: "live", update: true }); last = ${i};`;
    case 4:
      return `process.stdout.write("x".repeat(${(i % 50) * 100})); [total, last]`;
    case 5:
      return `await new Promise((r) => setTimeout(r, 1)); last`;
    case 6:
      return `clearOutput({ wait: true }); console.log(${i});`;
    default:
      return `if (${i} % 2 === 1) throw new Error("planned ${i}"); ${i}`;
  }
}

describe("soak", () => {
  let k: KernelClient;
  let second: Subscriber;
  const secondSeen = new Map<string, number>();
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready(60_000);
    expect((await run(k, "let total = 0; let last = 0; total")).result).toBe("0");
    second = new Subscriber({ linger: 0 });
    second.connect(`tcp://${k.info.ip}:${k.info.iopub_port}`);
    second.subscribe("");
    void (async () => {
      const reader = new Signer(k.info.key);
      try {
        for await (const frames of second) {
          const m = decode(frames, reader);
          secondSeen.set(m.header.msg_type, (secondSeen.get(m.header.msg_type) ?? 0) + 1);
        }
      } catch (e) {
        if (!second.closed) throw e;
      }
    })();
  }, 120_000);
  afterAll(async () => {
    second?.close();
    await k?.close();
  });

  it("many cells: counts increase, nothing after idle, bounded memory, two subscribers", async () => {
    const total = size(150, 10_000);
    // The V8 heaps grow lazily (the compiler's garbage is collected late): RSS rises for several
    // hundred cells and then levels off, so growth is measured from the high-water mark of a long warm-up,
    // and only in the full run (in the short run the warm-up has not ended).
    const warmup = Math.max(100, Math.floor(total / 10));
    const finished = new Set<string>();
    let afterIdle = 0;
    let lastCount = 1;
    let outputs = 0;
    let rssWarm = 0;
    let rssPeak = 0;
    const scan = () => {
      for (const m of k.inbox.iopub.drain()) {
        if (finished.has((m.parentHeader as { msg_id?: string }).msg_id ?? "")) afterIdle++;
      }
    };
    const started = Date.now();
    for (let i = 1; i <= total; i++) {
      const c = await run(k, cell(i), 60_000);
      const expectedStatus = i % 8 === 7 && i % 2 === 1 ? "error" : "ok";
      expect(c.reply.content.status, `cell ${i}: ${JSON.stringify(c.reply.content).slice(0, 300)}`).toBe(expectedStatus);
      const count = c.reply.content.execution_count as number;
      expect(count).toBeGreaterThan(lastCount);
      lastCount = count;
      outputs += c.iopub.filter((m) => m.header.msg_type !== "status" && m.header.msg_type !== "execute_input").length;
      finished.add(c.reply.parentHeader.msg_id as string);
      if (i % 50 === 0) {
        await new Promise((r) => setTimeout(r, 5));
        scan();
      }
      const rss = kernelRss(k.child.pid!);
      if (i <= warmup) rssWarm = Math.max(rssWarm, rss);
      else rssPeak = Math.max(rssPeak, rss);
      if (i % 1000 === 0) console.log(`soak: ${i} cells, RSS ${(rss / MB).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    // idle for a while: nothing may arrive for the finished requests
    await new Promise((r) => setTimeout(r, 1000));
    scan();
    const rssEnd = kernelRss(k.child.pid!);
    expect((await run(k, "total")).result).toBe(String(Array.from({ length: total }, (_, j) => j + 1).filter((j) => j % 8 === 0).reduce((s, j) => s + j, 0)));
    expect(afterIdle).toBe(0);
    expect(k.child.exitCode).toBeNull();
    const growth = (rssEnd - rssWarm) / MB;
    if (FULL) expect(growth).toBeLessThan(50);
    expect(secondSeen.get("status") ?? 0).toBeGreaterThanOrEqual(2 * total);
    expect(secondSeen.get("stream") ?? 0).toBeGreaterThan(0);
    expect(secondSeen.get("display_data") ?? 0).toBeGreaterThan(0);
    expect(secondSeen.get("update_display_data") ?? 0).toBeGreaterThan(0);
    const line = `soak${FULL ? " (full)" : ""}: cells=${total} outputs=${outputs} outputsAfterIdle=${afterIdle} executionCounts strictly increasing (last ${lastCount}); RSS warm-up high-water (${warmup} cells)=${(rssWarm / MB).toFixed(1)} MB end=${(rssEnd / MB).toFixed(1)} MB peak after=${(rssPeak / MB).toFixed(1)} MB growth=${growth.toFixed(1)} MB${FULL ? "" : " (not checked in the short run)"}; second subscriber got ${[...secondSeen.values()].reduce((a, b) => a + b, 0)} messages; crashes=0; ${((Date.now() - started) / 1000).toFixed(0)} s`;
    console.log(line);
  }, FULL ? 3_600_000 : 240_000);
});
