/** The connection file a Jupyter client hands the kernel: where to bind and how to sign. */
import { readFileSync, rmSync, writeFileSync } from "node:fs";

export type ChannelName = "shell" | "control" | "stdin" | "iopub" | "hb";
export const CHANNELS: readonly ChannelName[] = ["shell", "control", "stdin", "iopub", "hb"];

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name?: string;
}

export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** Validates parsed JSON as a connection file; every problem is reported with the field's name. */
export function parseConnection(raw: unknown, source = "connection file"): ConnectionInfo {
  const fail = (why: string): never => {
    throw new ConnectionError(`${source}: ${why}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("not a JSON object");
  const o = raw as Record<string, unknown>;
  const transport = o.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc") fail(`transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`);
  if (typeof o.ip !== "string" || o.ip.length === 0) fail("ip must be a non-empty string");
  if (o.signature_scheme !== "hmac-sha256") {
    fail(`signature_scheme ${JSON.stringify(o.signature_scheme)} is not supported; only "hmac-sha256" is`);
  }
  if (typeof o.key !== "string") fail('key must be a string (write "key": "" to run without signing)');
  for (const c of CHANNELS) {
    const port = o[`${c}_port`];
    const max = transport === "tcp" ? 65535 : Number.MAX_SAFE_INTEGER;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > max) {
      fail(`${c}_port must be an integer in 1..${max}, got ${JSON.stringify(port)}`);
    }
  }
  return o as unknown as ConnectionInfo;
}

export function readConnectionFile(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConnectionError(`cannot read connection file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConnectionError(`connection file ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseConnection(raw, `connection file ${path}`);
}

/** Writes a connection file readable by its owner only (a fresh file, so no older mode is kept). */
export function writeConnectionFile(path: string, info: ConnectionInfo): void {
  rmSync(path, { force: true });
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600, flag: "wx" });
}

/** The ZeroMQ endpoint of one channel: tcp://ip:port, or ipc://ip-port as jupyter_client names them. */
export function endpoint(info: ConnectionInfo, channel: ChannelName): string {
  const port = info[`${channel}_port`];
  return info.transport === "tcp" ? `tcp://${info.ip}:${port}` : `ipc://${info.ip}-${port}`;
}
