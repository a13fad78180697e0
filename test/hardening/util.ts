/** Shared helpers for the hardening suites: sizes (short in `npm test`, full with DROPOUT_LAB_FULL=1), /proc readers. */
import { readdirSync, readFileSync } from "node:fs";
import type { KernelClient } from "../../kernel/client.js";
import type { Message } from "../../kernel/wire.js";

export const FULL = process.env.DROPOUT_LAB_FULL === "1";

/** `short` inside `npm test`, `full` when DROPOUT_LAB_FULL=1. */
export const size = (short: number, full: number): number => (FULL ? full : short);

/** A small seeded generator (xorshift32), so a failing fuzz run can be replayed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Resident memory of a process in bytes (VmRSS covers all its threads: they share one address space). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

export function threadCount(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export async function waitFor(check: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

export interface Cell {
  reply: Message;
  iopub: Message[];
  stdout: string;
  stderr: string;
  result?: string;
}

/** Runs one cell and collects its reply, iopub messages through idle, streams and text/plain result. */
export async function run(k: KernelClient, code: string, timeoutMs = 60_000, content: Record<string, unknown> = {}): Promise<Cell> {
  const [reply, iopub] = await k.request("shell", "execute_request", { code, silent: false, store_history: true, stop_on_error: false, ...content }, timeoutMs);
  const text = (name: string) =>
    iopub.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => m.content.text as string).join("");
  const result = iopub.find((m) => m.header.msg_type === "execute_result");
  return {
    reply,
    iopub,
    stdout: text("stdout"),
    stderr: text("stderr"),
    result: result ? ((result.content.data as Record<string, unknown>)["text/plain"] as string) : undefined,
  };
}

/** A well-formed reply: is_complete's four states; otherwise status ok/aborted, or error with string ename and evalue and a traceback list. */
export function wellFormed(reply: Message): boolean {
  const c = reply.content;
  if (reply.header.msg_type === "is_complete_reply") return ["complete", "incomplete", "invalid", "unknown"].includes(c.status as string);
  if (c.status === "ok" || c.status === "aborted") return true;
  return c.status === "error" && typeof c.ename === "string" && typeof c.evalue === "string" && Array.isArray(c.traceback);
}
