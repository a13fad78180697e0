/**
 * Ends the processes a kernel's cells started, on shutdown (as ipykernel does): each child gets SIGTERM,
 * and those still there after a grace period get SIGKILL. Children are found in /proc (Linux); elsewhere
 * there is nothing to find and nothing is done.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The pids whose parent is `pid` (empty without /proc). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // fields after "(comm)": state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(name));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

const signal = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

/** SIGTERM to every child of this process, then SIGKILL to those left after `graceMs`. */
export async function endChildren(graceMs = 1000): Promise<number[]> {
  const children = childPids(process.pid);
  for (const pid of children) signal(pid, "SIGTERM");
  const end = Date.now() + graceMs;
  let left = children;
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    const now = new Set(childPids(process.pid));
    left = left.filter((pid) => now.has(pid));
  }
  for (const pid of left) signal(pid, "SIGKILL");
  return children;
}
