/**
 * Security properties of the kernel (docs/security.md): it listens only on the connection file's address
 * and ports; connection files are written 0600; signature schemes other than hmac-sha256 and files without
 * a key are refused at start-up with a clear error; an explicitly empty key runs, logged as insecure.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, connectionInfo, KernelClient } from "../../kernel/client.js";
import { writeConnectionFile } from "../../kernel/connection.js";

/** [address, port] of every TCP socket `pid` listens on, from /proc/<pid>/fd and /proc/net/tcp{,6}. */
function listening(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9]!)) continue;
      const [hexAddr, hexPort] = f[1]!.split(":");
      const addr = hexAddr!.length === 8 ? (hexAddr!.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join(".")) : hexAddr!;
      out.push(`${addr}:${parseInt(hexPort!, 16)}`);
    }
  }
  return out.sort();
}

/** Runs the kernel on a connection file that is expected to be refused; resolves with its exit code and stderr. */
async function refused(content: Record<string, unknown>): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "dl-sec-"));
  const file = join(dir, "connection.json");
  writeFileSync(file, JSON.stringify(content));
  const child = spawn(process.execPath, [CLI, "kernel", "-f", file], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, JUPYTER_DATA_DIR: join(dir, "data") } });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}

describe("security", () => {
  it("listens only on the connection file's address and ports", async () => {
    const k = await KernelClient.start();
    try {
      await k.ready(60_000);
      await k.ping(Buffer.from("bound?"), 30_000); // the heartbeat thread binds after the other sockets
      const i = k.info;
      const expected = [i.shell_port, i.control_port, i.stdin_port, i.iopub_port, i.hb_port].map((p) => `127.0.0.1:${p}`).sort();
      expect(listening(k.child.pid!)).toEqual(expected);
    } finally {
      await k.close();
    }
  }, 120_000);

  it("writes connection files readable by their owner only, whatever the umask or an older file's mode", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dl-sec-"));
    const file = join(dir, "kernel.json");
    writeFileSync(file, "{}");
    chmodSync(file, 0o666);
    const old = process.umask(0);
    try {
      writeConnectionFile(file, await connectionInfo());
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses a signature scheme other than hmac-sha256 with a clear error", async () => {
    const info = await connectionInfo();
    const { code, stderr } = await refused({ ...info, signature_scheme: "hmac-md5" });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/signature_scheme "hmac-md5" is not supported; only "hmac-sha256" is/);
  }, 120_000);

  it("refuses a connection file without a key", async () => {
    const { key: _key, ...info } = await connectionInfo();
    const { code, stderr } = await refused(info);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/key must be a string/);
  }, 120_000);

  it("runs with an explicitly empty key, logged as insecure", async () => {
    const k = await KernelClient.start({ key: "" });
    try {
      const reply = await k.ready(60_000);
      expect(reply.content.status).toBe("ok");
      expect(k.stderr.join("")).toMatch(/empty key; messages are not signed \(insecure\)/);
    } finally {
      await k.close();
    }
  }, 120_000);
});
