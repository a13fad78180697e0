/** The built kernel (`node dist/kernel/cli.js kernel -f`) over real ZeroMQ sockets with a non-empty key. */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Signer, encode } from "../../kernel/wire.js";
import { CLI, KernelClient, connectionInfo } from "../../kernel/client.js";

describe("spawned kernel", () => {
  let k: KernelClient;
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready();
  });
  afterAll(async () => {
    await k?.close();
  });

  it("greets the iopub subscriber with iopub_welcome", async () => {
    const welcome = await k.inbox.iopub.next((m) => m.header.msg_type === "iopub_welcome", 5000, "iopub_welcome");
    expect(welcome.content).toEqual({ subscription: "" });
    expect(welcome.parentHeader).toEqual({});
  });

  it("answers kernel_info on shell and control with the request as parent", async () => {
    for (const channel of ["shell", "control"] as const) {
      const [reply, iopub] = await k.request(channel, "kernel_info_request");
      expect(reply.header.msg_type).toBe("kernel_info_reply");
      expect(reply.content).toMatchObject({ status: "ok", protocol_version: "5.3", implementation: "dropout-lab" });
      expect((reply.content.language_info as Record<string, unknown>).name).toBe("typescript");
      expect(iopub.map((m) => m.content.execution_state)).toEqual(["busy", "idle"]);
    }
  });

  it("ignores a message with a forged signature and keeps answering", async () => {
    const forged = encode(k.message("kernel_info_request"), new Signer("not-the-key"));
    const forgedId = JSON.parse(forged[2].toString()).msg_id as string;
    await k.sendFrames("shell", forged);
    const unsigned = encode(k.message("kernel_info_request"), new Signer(""));
    await k.sendFrames("shell", unsigned);
    const [reply] = await k.request("shell", "kernel_info_request");
    expect(reply.content.status).toBe("ok");
    await expect(k.reply("shell", forgedId, 300)).rejects.toThrow(/timed out/);
    const log = k.stderr.join("");
    expect(log).toContain("invalid signature");
    expect(log).toContain("unsigned message");
  });

  it("drops a replayed message", async () => {
    const frames = encode(k.message("kernel_info_request"), k.signer);
    const id = JSON.parse(frames[2].toString()).msg_id as string;
    await k.sendFrames("shell", frames);
    await k.reply("shell", id);
    await k.sendFrames("shell", frames);
    await expect(k.reply("shell", id, 300)).rejects.toThrow(/timed out/);
    expect(k.stderr.join("")).toContain("replayed signature");
  });

  it("survives malformed frames and JSON", async () => {
    await k.sendFrames("shell", [Buffer.from("garbage")]);
    await k.sendFrames("shell", [Buffer.from("<IDS|MSG>")]);
    await k.sendFrames("control", [Buffer.from("<IDS|MSG>"), Buffer.from("sig"), Buffer.from("{"), Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{}")]);
    const parts = ["{not json", "{}", "{}", "{}"].map((p) => Buffer.from(p));
    await k.sendFrames("shell", [Buffer.from("<IDS|MSG>"), Buffer.from(k.signer.sign(parts)), ...parts]);
    const [reply] = await k.request("shell", "kernel_info_request");
    expect(reply.content.status).toBe("ok");
    const log = k.stderr.join("");
    expect(log).toContain("no <IDS|MSG> delimiter");
    expect(log).toContain("expected 5 frames after the delimiter");
    expect(log).toContain("header is not valid JSON");
  });

  it("echoes heartbeats", async () => {
    for (const payload of ["ping", "\u00ff binary \u0000"]) {
      const echo = await k.ping(Buffer.from(payload, "latin1"));
      expect(echo.toString("latin1")).toBe(payload);
    }
  });

  it("exits after a shutdown_request, replying first", async () => {
    const id = await k.send("control", "shutdown_request", { restart: false });
    const reply = await k.reply("control", id);
    expect(reply.content).toEqual({ status: "ok", restart: false });
    expect(await k.exit()).toBe(0);
  });
});

describe("kernel start-up errors", () => {
  const run = (info: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), "dl-conn-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify(info));
    return spawnSync(process.execPath, [CLI, "kernel", "-f", file], { encoding: "utf8", timeout: 20_000 });
  };

  /** As `run`, without blocking the event loop (the port blocker must keep accepting). */
  const runAsync = (info: unknown): Promise<{ status: number | null; stderr: string }> => {
    const dir = mkdtempSync(join(tmpdir(), "dl-conn-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify(info));
    const child = spawn(process.execPath, [CLI, "kernel", "-f", file], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, JUPYTER_DATA_DIR: join(dir, "data") } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    return new Promise((r) => child.once("exit", (status) => r({ status, stderr })));
  };

  it("refuses a signature scheme other than hmac-sha256", async () => {
    const r = run({ ...(await connectionInfo()), signature_scheme: "hmac-md5" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/signature_scheme "hmac-md5" is not supported; only "hmac-sha256"/);
  });

  it("refuses a connection file without a key", async () => {
    const info: Record<string, unknown> = { ...(await connectionInfo()) };
    delete info.key;
    const r = run(info);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/key must be a string/);
  });

  it("exits with a clear error when a port is taken", async () => {
    for (const taken of ["shell_port", "hb_port"] as const) {
      const info = await connectionInfo();
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(info[taken], "127.0.0.1", () => r()));
      try {
        const r = await runAsync(info);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/Address already in use/i);
      } finally {
        blocker.close();
      }
    }
  });

  it("serves over the ipc transport", async () => {
    const k = await KernelClient.start({ ipc: true });
    try {
      const reply = await k.ready();
      expect(reply.content.status).toBe("ok");
      expect((await k.ping(Buffer.from("ipc beat"))).toString()).toBe("ipc beat");
    } finally {
      await k.close();
    }
  });

  it("accepts an explicitly empty key, logged as insecure", async () => {
    const k = await KernelClient.start({ key: "" });
    try {
      const reply = await k.ready();
      expect(reply.content.status).toBe("ok");
      expect(k.stderr.join("")).toMatch(/empty key.*insecure/);
    } finally {
      await k.close();
    }
  });
});
