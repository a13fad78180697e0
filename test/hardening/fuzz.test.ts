/**
 * Wire fuzz through real sockets with a non-empty key: forged, unsigned, transplanted and replayed
 * signatures, truncated frame lists, non-JSON, huge frames, wrong types in every header and content field of
 * every request type, unknown message types, missing delimiters. Oracles: the kernel never exits; forged
 * execute_requests that would write a canary file never run; replayed ones run once; signed but ill-typed
 * requests get a well-formed reply; kernel_info is still answered afterwards.
 * Short in `npm test`; `npm run test:fuzz` (DROPOUT_LAB_FULL=1) sends >= 10,000 messages and 64 MB frames.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient } from "../../kernel/client.js";
import { DELIMITER, encode, type JsonObject, type Message, Signer } from "../../kernel/wire.js";
import { FULL, rng, size, wellFormed } from "./util.js";

type Channel = "shell" | "control" | "stdin";

/** Each request type with the content fields the kernel reads, and where it is sent. */
const REQUESTS: { type: string; channel: Channel; fields: JsonObject; reply: boolean }[] = [
  { type: "kernel_info_request", channel: "shell", fields: {}, reply: true },
  { type: "kernel_info_request", channel: "control", fields: {}, reply: true },
  {
    type: "execute_request",
    channel: "shell",
    fields: { code: "1 + 1", silent: false, store_history: true, user_expressions: { a: "1" }, allow_stdin: false, stop_on_error: false },
    reply: true,
  },
  { type: "complete_request", channel: "shell", fields: { code: "Math.", cursor_pos: 5 }, reply: true },
  { type: "inspect_request", channel: "shell", fields: { code: "Math", cursor_pos: 2, detail_level: 0 }, reply: true },
  { type: "is_complete_request", channel: "shell", fields: { code: "let a = (" }, reply: true },
  {
    type: "history_request",
    channel: "shell",
    fields: { output: false, raw: true, hist_access_type: "tail", session: 0, start: 0, stop: 10, n: 5, pattern: "*", unique: false },
    reply: true,
  },
  { type: "comm_info_request", channel: "shell", fields: { target_name: "x" }, reply: true },
  { type: "comm_open", channel: "shell", fields: { comm_id: "c1", target_name: "nobody", data: {} }, reply: false },
  { type: "comm_msg", channel: "shell", fields: { comm_id: "c1", data: {} }, reply: false },
  { type: "comm_close", channel: "shell", fields: { comm_id: "c1", data: {} }, reply: false },
  { type: "interrupt_request", channel: "control", fields: {}, reply: true },
  { type: "input_reply", channel: "stdin", fields: { value: "v" }, reply: false },
];
const HEADER_FIELDS = ["msg_id", "msg_type", "session", "username", "date", "version"];
const BAD_VALUES: unknown[] = [
  42, -1, 0, 1e300, -1e300, 2 ** 53 + 1, 0.5, "x", "", "\uD800", "a".repeat(100_000), null, true, false, [], {}, [1, "a", null],
  { nested: { deeper: [{}] } }, "-1", "NaN",
];

describe("wire fuzz", () => {
  let k: KernelClient;
  const dir = mkdtempSync(join(tmpdir(), "dl-fuzz-"));
  const canary = join(dir, "forged-ran");
  const replayLog = join(dir, "replayed");
  const counts = { sent: 0, shell: 0, control: 0, stdin: 0, forged: 0, replays: 0, truncated: 0, nonJson: 0, huge: 0, illTyped: 0, unknown: 0, noDelimiter: 0, replies: 0, malformed: 0, errorReplies: 0 };
  const malformedSamples: string[] = [];
  let hugeBytes = 0;
  let pending: Promise<void>[] = [];

  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready(60_000);
  }, 120_000);
  afterAll(async () => {
    await k?.close();
  });

  async function send(channel: Channel, frames: Buffer[]): Promise<void> {
    await k.sendFrames(channel, frames);
    counts.sent++;
    counts[channel]++;
  }

  /** Sends a correctly signed message and, when one is due, checks its reply (collected in batches). */
  async function sendSigned(channel: Channel, m: Message, expectReply: boolean): Promise<void> {
    await send(channel, encode(m, k.signer));
    if (!expectReply || channel === "stdin") return;
    const id = m.header.msg_id;
    pending.push(
      k.reply(channel, id, 120_000).then((reply) => {
        counts.replies++;
        if (reply.content.status === "error") counts.errorReplies++;
        if (!wellFormed(reply)) {
          counts.malformed++;
          if (malformedSamples.length < 5) malformedSamples.push(`${m.header.msg_type} ${JSON.stringify(m.content).slice(0, 200)} -> ${JSON.stringify(reply.content).slice(0, 300)}`);
        }
      }),
    );
    if (pending.length >= 16) await settle();
  }

  async function settle(): Promise<void> {
    const batch = pending;
    pending = [];
    await Promise.all(batch);
    k.inbox.iopub.drain();
  }

  const canaryCode = (path: string) => `require("node:fs").appendFileSync(${JSON.stringify(path)}, "ran\\n")`;
  const executeMessage = (code: string) => k.message("execute_request", { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false });

  it("treats msg_types named after Object.prototype members as unknown", async () => {
    for (const type of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const id = await k.send("shell", type);
      await k.iopubUntilIdle(id, 30_000);
      await expect(k.reply("shell", id, 200)).rejects.toThrow(/timed out/);
      expect(k.stderr.join("")).toContain(`unknown message type ${JSON.stringify(type)}`);
    }
  }, 120_000);

  it("survives the fuzz; no forged code runs; ill-typed requests get well-formed replies", async () => {
    const total = size(600, 10_500);
    const random = rng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const hugeSize = size(4, 64) * 2 ** 20;
    let replayed = 0;

    const forge = async (): Promise<void> => {
      const m = executeMessage(canaryCode(canary));
      const good = encode(m, k.signer);
      const at = good.indexOf(good.find((f) => f.toString() === DELIMITER)!);
      const sig = good[at + 1]!.toString();
      const other = encode(k.message("kernel_info_request"), k.signer)[1]!;
      const variants: (() => Buffer[])[] = [
        () => encode(m, new Signer("not-the-key")),
        () => encode(m, new Signer("")),
        () => [...good.slice(0, at + 1), other, ...good.slice(at + 2)], // another message's valid signature
        () => [...good.slice(0, at + 1), Buffer.from(sig.toUpperCase()), ...good.slice(at + 2)],
        () => [...good.slice(0, at + 1), Buffer.from(sig.slice(0, 32)), ...good.slice(at + 2)],
        () => [...good.slice(0, at + 1), Buffer.from(sig + "00"), ...good.slice(at + 2)],
        () => [...good.slice(0, at + 1), good[at + 1]!, ...good.slice(at + 1)], // the signature twice
        () => [...good.slice(0, at + 1), Buffer.alloc(64), ...good.slice(at + 2)],
        () => {
          // a signed message whose content was changed afterwards
          const content = Buffer.from(JSON.stringify({ ...m.content, code: canaryCode(canary) + ";1" }));
          return [...good.slice(0, at + 5), content];
        },
      ];
      counts.forged++;
      await send(pick(["shell", "control", "stdin"] as const), pick(variants)());
    };

    const replay = async (): Promise<void> => {
      const frames = encode(executeMessage(canaryCode(replayLog)), k.signer);
      replayed++;
      const id = JSON.parse(frames[1]!.toString() === DELIMITER ? frames[3]!.toString() : frames[2]!.toString()).msg_id as string;
      await send("shell", frames);
      await k.reply("shell", id, 120_000);
      for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) {
        counts.replays++;
        await send("shell", frames);
      }
    };

    const truncated = async (): Promise<void> => {
      const r = pick(REQUESTS);
      const frames = encode(k.message(r.type, r.fields), k.signer);
      const keep = Math.floor(random() * (frames.length - 1)); // at least one frame missing
      const cut = random() < 0.5 ? frames.slice(0, keep) : frames.filter((_, i) => i !== keep + 1 || keep === 0);
      counts.truncated++;
      await send(r.channel, cut.length ? cut : [Buffer.alloc(0)]);
    };

    const nonJson = async (): Promise<void> => {
      const garbage = pick(["{", "not json", "[]", "null", "42", '"s"', "\u0000\u0001", "{\"a\":}", "\uD800", ""]);
      const r = pick(REQUESTS);
      const parts = [JSON.stringify(k.message(r.type).header), "{}", "{}", JSON.stringify(r.fields)].map((p) => Buffer.from(p));
      parts[Math.floor(random() * 4)] = Buffer.from(garbage);
      counts.nonJson++;
      await send(r.channel, [Buffer.from(DELIMITER), Buffer.from(k.signer.sign(parts)), ...parts]);
    };

    const huge = async (): Promise<void> => {
      counts.huge++;
      hugeBytes = Math.max(hugeBytes, hugeSize);
      const kind = counts.huge % 3;
      if (kind === 0) {
        // correctly signed, well-formed, with a huge field: must be answered
        const m = k.message("kernel_info_request", { padding: "p".repeat(hugeSize) });
        await sendSigned("shell", m, true);
        await settle();
      } else if (kind === 1) {
        const frames = encode(k.message("kernel_info_request"), k.signer);
        frames[frames.length - 1] = Buffer.alloc(hugeSize, 0x7b); // "{{{{..." unsigned change
        await send("control", frames);
      } else {
        await send("shell", [Buffer.alloc(hugeSize, 1), Buffer.from(DELIMITER), Buffer.from("sig"), Buffer.alloc(hugeSize, 2)]);
      }
    };

    const illTyped = async (): Promise<void> => {
      const r = pick(REQUESTS);
      const m = k.message(r.type, { ...r.fields });
      const bad = pick(BAD_VALUES);
      const fields = Object.keys(r.fields);
      let expectReply = r.reply;
      if (random() < 0.25 || fields.length === 0) {
        const field = pick(HEADER_FIELDS);
        (m.header as unknown as JsonObject)[field] = bad;
        if (field === "msg_id" || field === "msg_type") expectReply = typeof bad === "string" && field === "msg_id" && r.reply;
        if (field === "msg_id" && expectReply) {
          // a string msg_id: the reply is matched by it
          expectReply = bad !== "" && !pending.length;
        }
        if (field === "msg_type" && typeof bad === "string") counts.unknown++;
      } else {
        m.content[pick(fields)] = bad;
      }
      if (r.type === "execute_request" && typeof m.content.code === "string" && m.content.code !== r.fields.code) {
        m.content.code = "1"; // wrong types, not arbitrary programs
      }
      counts.illTyped++;
      await sendSigned(r.channel, m, expectReply);
    };

    const unknown = async (): Promise<void> => {
      counts.unknown++;
      const type = pick(["foo_request", "execute", "debug_request", "shutdown", "", "__proto__", "constructor", "toString", "hasOwnProperty"]);
      const channel = pick(["shell", "control", "stdin"] as const);
      await sendSigned(channel, k.message(type, { code: canaryCode(canary) }), false);
    };

    const noDelimiter = async (): Promise<void> => {
      const frames = encode(executeMessage(canaryCode(canary)), k.signer).filter((f) => f.toString() !== DELIMITER);
      counts.noDelimiter++;
      await send(pick(["shell", "control", "stdin"] as const), random() < 0.5 ? frames : [Buffer.from("<IDS|MSG"), ...frames]);
    };

    const actions: [number, () => Promise<void>][] = [
      [20, forge],
      [3, replay],
      [12, truncated],
      [12, nonJson],
      [35, illTyped],
      [6, unknown],
      [8, noDelimiter],
    ];
    const weight = actions.reduce((s, [w]) => s + w, 0);
    const hugeEvery = Math.floor(total / size(3, 6));
    while (counts.sent < total) {
      if (counts.sent >= hugeEvery * (counts.huge + 1)) await huge();
      let x = random() * weight;
      const action = actions.find(([w]) => (x -= w) < 0)![1];
      await action();
      expect(k.child.exitCode, `kernel exited; stderr: ${k.stderr.join("").slice(-2000)}`).toBeNull();
    }
    await settle();

    // kernel_info is still answered on both channels
    for (const channel of ["shell", "control"] as const) {
      const [reply] = await k.request(channel, "kernel_info_request", {}, 30_000);
      expect(reply.content.status).toBe("ok");
    }
    // a correctly signed canary runs (the oracle can see code that runs) ...
    const control = join(dir, "signed-ran");
    const [ok] = await k.request("shell", "execute_request", { code: canaryCode(control), stop_on_error: false }, 60_000);
    expect(ok.content.status).toBe("ok");
    expect(existsSync(control)).toBe(true);
    // ... and no forged one did; each replayed message ran once
    expect(existsSync(canary)).toBe(false);
    const replayRuns = existsSync(replayLog) ? readFileSync(replayLog, "utf8").split("\n").filter(Boolean).length : 0;
    expect(replayRuns).toBe(replayed);
    expect(counts.malformed, malformedSamples.join("\n")).toBe(0);
    expect(k.child.exitCode).toBeNull();
    const line = `fuzz${FULL ? " (full)" : ""}: sent=${counts.sent} (shell ${counts.shell}, control ${counts.control}, stdin ${counts.stdin}); forged=${counts.forged} replays=${counts.replays} truncated=${counts.truncated} nonJson=${counts.nonJson} illTyped=${counts.illTyped} unknownTypes=${counts.unknown} noDelimiter=${counts.noDelimiter} huge=${counts.huge} (${hugeBytes / 2 ** 20} MB); replies=${counts.replies} (error ${counts.errorReplies}, malformed ${counts.malformed}); crashes=0; forged code ran=0; replayed ran once each (${replayRuns}/${replayed})`;
    appendFileSync(join(dir, "counts.txt"), line + "\n");
    console.log(line);
  }, FULL ? 1_800_000 : 240_000);
});
