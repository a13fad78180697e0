/** `dropout-lab install` and the connection-file rules, through the built CLI and the modules. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ConnectionError, endpoint, parseConnection, readConnectionFile, writeConnectionFile } from "../../kernel/connection.js";
import { globToRegExp } from "../../kernel/history.js";
import { watchParent } from "../../kernel/parent.js";
import { CLI, connectionInfo } from "../../kernel/client.js";

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

describe("dropout-lab --help", () => {
  it("prints the usage and exits 0 for the command and for each subcommand, and 2 with the usage for a bad option", () => {
    for (const args of [["--help"], ["run", "--help"], ["install", "-h"], ["kernel", "--help"]]) {
      const r = cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("dropout-lab run NOTEBOOK...");
    }
    const bad = cli(["run", "--bogus", "x.ipynb"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("run: unknown option --bogus");
    expect(bad.stderr).toContain("usage:");
  });
});

/** Decodes an 8-bit RGBA, filter-0 PNG (what install writes): [width, height, rgba]. */
function readPng(bytes: Buffer): [number, number, Buffer] {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    } else if (type === "IDAT") idat.push(data);
    at += 12 + length;
    if (type === "IEND") break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (width * 4 + 1));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(0);
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return [width, height, rgba];
}

describe("install", () => {
  it("writes the kernelspec and both logos under --prefix", () => {
    const prefix = mkdtempSync(join(tmpdir(), "dl-install-"));
    const r = cli(["install", "--prefix", prefix]);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(prefix, "share", "jupyter", "kernels", "dropout-lab");
    const spec = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
    expect(spec).toMatchObject({ display_name: "TypeScript (dropout-lab)", language: "typescript", interrupt_mode: "signal" });
    expect(spec.argv).toEqual([process.execPath, CLI, "kernel", "-f", "{connection_file}"]);
    for (const size of [32, 64]) {
      const [w, h, rgba] = readPng(readFileSync(join(dir, `logo-${size}x${size}.png`)));
      expect([w, h]).toEqual([size, size]);
      const alpha = (x: number, y: number) => rgba[(y * size + x) * 4 + 3];
      expect(alpha(0, 0)).toBe(0); // rounded corner is transparent
      expect(alpha(size >> 1, 1)).toBe(255); // the tile
      const colours = new Set<string>();
      for (let i = 0; i < size * size; i++) if (rgba[i * 4 + 3] === 255) colours.add(rgba.subarray(i * 4, i * 4 + 3).join(","));
      expect(colours.has("63,81,181")).toBe(true); // tile colour
      expect(colours.has("255,255,255")).toBe(true); // the units
    }
  });

  it("installs for the user by default, into the Jupyter data dir", () => {
    const data = mkdtempSync(join(tmpdir(), "dl-user-"));
    const r = cli(["install"], { JUPYTER_DATA_DIR: data });
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(join(data, "kernels", "dropout-lab", "kernel.json")).isFile()).toBe(true);
    const again = cli(["install", "--user"], { JUPYTER_DATA_DIR: data });
    expect(again.status).toBe(0);
  });

  it("rejects conflicting or unknown options with usage", () => {
    const both = cli(["install", "--user", "--prefix", "/tmp/x"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/at most one of/);
    expect(cli(["install", "--bogus"]).stderr).toMatch(/unknown option --bogus/);
    expect(cli(["frobnicate"]).status).toBe(2);
    expect(cli(["kernel"]).stderr).toMatch(/-f CONNECTION_FILE is required/);
  });
});

describe("connection files", () => {
  it("validates fields with clear messages", async () => {
    const good = await connectionInfo("k");
    expect(parseConnection(good)).toEqual(good);
    expect(() => parseConnection({ ...good, signature_scheme: "hmac-sha1" })).toThrow(/only "hmac-sha256"/);
    expect(() => parseConnection({ ...good, transport: "udp" })).toThrow(/transport must be/);
    expect(() => parseConnection({ ...good, hb_port: "80" })).toThrow(/hb_port must be an integer/);
    expect(() => parseConnection({ ...good, key: undefined })).toThrow(ConnectionError);
    expect(parseConnection({ ...good, key: "" }).key).toBe("");
    expect(endpoint(good, "shell")).toBe(`tcp://127.0.0.1:${good.shell_port}`);
    expect(endpoint({ ...good, transport: "ipc", ip: "/tmp/k" }, "iopub")).toBe(`ipc:///tmp/k-${good.iopub_port}`);
  });

  it("writes connection files readable by the owner only, replacing an open one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dl-conn-"));
    const file = join(dir, "kernel.json");
    writeFileSync(file, "{}", { mode: 0o644 });
    const info = await connectionInfo();
    writeConnectionFile(file, info);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readConnectionFile(file)).toEqual(info);
    expect(() => readConnectionFile(join(dir, "missing.json"))).toThrow(/cannot read connection file/);
  });
});

describe("history search globs", () => {
  it("follows GLOB: * and ? and classes, case-sensitive, anchored", () => {
    const match = (p: string, s: string) => globToRegExp(p).test(s);
    expect(match("1 + 2*", "1 + 2 + 3")).toBe(true);
    expect(match("1?2", "1+2")).toBe(true);
    expect(match("1?2", "1+22")).toBe(false);
    expect(match("[ab]x", "bx")).toBe(true);
    expect(match("[^ab]x", "bx")).toBe(false);
    expect(match("A*", "abc")).toBe(false);
    expect(match("a.c", "abc")).toBe(false);
    expect(match("*\n*", "line1\nline2")).toBe(true);
  });
});

describe("parent watch", () => {
  it("reports a JPY_PARENT_PID that does not exist, and stays quiet for a live one", async () => {
    const gone: string[] = [];
    const stopDead = watchParent((why) => gone.push(why), { JPY_PARENT_PID: "999999999" }, 5);
    const stopLive = watchParent((why) => gone.push(`live: ${why}`), { JPY_PARENT_PID: String(process.pid) }, 5);
    await new Promise((r) => setTimeout(r, 60));
    stopDead();
    stopLive();
    expect(gone).toEqual(["parent process 999999999 is gone"]);
  });
});
