/**
 * Live training display through the built kernel over real sockets: a cell training with `plot.live()` (which
 * finds the kernel's global `display`) publishes one display_data, then update_display_data messages with the
 * same display id, and nothing after idle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "../../kernel/wire.js";
import { KernelClient } from "../../kernel/client.js";

const SETUP = `
import { Sequential, Linear, SGD, Tensor, fit, key, randn, plot } from "dropout-lab";
const x = randn(key(1), [48, 3]);
const y = new Tensor(new Float32Array(48).map((_, i) => i % 2), [48]);
const train = (epochs: number, batchSize: number, live: plot.LiveCallback) => {
  const model = new Sequential(new Linear(3, 8, { activation: "relu", key: key(2) }), new Linear(8, 2, { key: key(3) }));
  return fit(model, { x, y }, { epochs, batchSize, optimizer: new SGD(model.parameters(), { lr: 0.1 }), validation: { x, y }, key: key(4), callbacks: [live] });
};
`;

const parentId = (m: Message) => (m.parentHeader as { msg_id?: string }).msg_id;
const displayId = (m: Message) => (m.content.transient as { display_id?: string } | undefined)?.display_id;
const plain = (m: Message) => (m.content.data as Record<string, string>)["text/plain"];

describe("live training display in the kernel", () => {
  let k: KernelClient;
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready();
    const [reply] = await k.request("shell", "execute_request", { code: SETUP }, 60_000);
    expect(reply.content).toMatchObject({ status: "ok" });
  }, 90_000);
  afterAll(async () => {
    await k?.close();
  });

  /** Runs a cell; its iopub messages through idle, then checks that nothing more comes for it. */
  async function cell(code: string): Promise<Message[]> {
    const [reply, iopub] = await k.request("shell", "execute_request", { code }, 60_000);
    expect(reply.content.status, JSON.stringify(reply.content)).toBe("ok");
    await expect(k.inbox.iopub.next((m) => parentId(m) === reply.parentHeader.msg_id, 500, "output after idle")).rejects.toThrow(/timed out/);
    return iopub;
  }

  it("sends one display_data, then update_display_data with its id, ending on the final state", async () => {
    const iopub = await cell("const h = await train(3, 16, plot.live({ minIntervalMs: 0 }));\nh.epochs.length");
    const types = iopub.map((m) => (m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type));
    // unthrottled: 3 batches and 1 epoch end per epoch, plus the final state when training ends
    expect(types).toEqual(["status:busy", "execute_input", "display_data", ...Array(3 * 3 + 3).fill("update_display_data"), "execute_result", "status:idle"]);
    const shown = iopub.filter((m) => m.header.msg_type.endsWith("display_data"));
    const id = displayId(shown[0]);
    expect(id).toMatch(/^progress-/);
    expect(shown.every((m) => displayId(m) === id)).toBe(true);
    expect(plain(shown[0])).toMatch(/^epoch 1\/3 .* batch 1\/3 {2}loss [\d.]+ {2}ETA /);
    expect(plain(shown.at(-1)!)).toMatch(/^epoch 3\/3 {2}\[#{24}\] 100% {2}batch 3\/3 {2}trainLoss [\d.]+ {2}trainAcc [\d.]+ {2}valLoss [\d.]+ {2}valAcc [\d.]+ {2}done in/);
    expect(Object.keys(shown.at(-1)!.content.data as object).sort()).toEqual(["text/html", "text/plain"]);
    expect(plain(iopub.find((m) => m.header.msg_type === "execute_result")!)).toBe("3");
  });

  it("throttles by default and gives each fit its own display id", async () => {
    const first = await cell("await train(1, 16, plot.live()); 0");
    const iopub = await cell("await train(30, 1, plot.live()); 0"); // 1,440 batches
    const shown = iopub.filter((m) => m.header.msg_type.endsWith("display_data"));
    expect(shown[0].header.msg_type).toBe("display_data");
    expect(shown.slice(1).every((m) => m.header.msg_type === "update_display_data" && displayId(m) === displayId(shown[0]))).toBe(true);
    expect(displayId(shown[0])).not.toBe(displayId(first.find((m) => m.header.msg_type === "display_data")!));
    // at most one rendering per 250 ms of the cell's run, plus the final one
    const ran = Date.parse(iopub.at(-1)!.header.date) - Date.parse(iopub[0].header.date);
    expect(shown.length).toBeLessThanOrEqual(Math.floor(ran / 250) + 2);
    expect(shown.length).toBeLessThan(1440 + 30);
    expect(plain(shown.at(-1)!)).toMatch(/^epoch 30\/30 .*done in/);
  });
});
