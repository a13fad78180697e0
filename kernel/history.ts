/**
 * Input history kept across kernel restarts in one JSON-lines file under the user's Jupyter data directory.
 * Each kernel start opens a new session (one more than the highest recorded); each stored cell is a line
 * `{"session","line","source","output"}`; a session's start is a line `{"session","started"}`.
 */
import { mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface HistoryEntry {
  session: number;
  line: number;
  source: string;
  /** text/plain of the cell's result, or null. */
  output: string | null;
}

/** One row of a history_reply: [session, line, source] or [session, line, [source, output]]. */
export type HistoryRow = [number, number, string | [string, string | null]];

/** `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`, else `~/.local/share/jupyter` (as jupyter_core on Linux). */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}

export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(jupyterDataDir(env), "dropout-lab", "history.jsonl");
}

/** Glob as SQLite's GLOB (IPython's history search): `*` any run, `?` one character, `[...]` a class; case-sensitive. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith("^")) body = "^" + body.slice(1).replace(/[\\\]]/g, "\\$&");
        else body = body.replace(/[\\\]^]/g, "\\$&");
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export class HistoryStore {
  readonly session: number;
  private readonly entries: HistoryEntry[] = [];
  /** The file, open for appending: each cell's entry is one write (no open and close per cell). */
  private readonly fd: number;

  /** Opens (creating if needed) the file at `path` and starts a new session in it. */
  constructor(
    private readonly path: string,
    log: (line: string) => void = () => {},
  ) {
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    let last = 0;
    text.split("\n").forEach((row, i) => {
      if (row.trim() === "") return;
      try {
        const o = JSON.parse(row) as Partial<HistoryEntry> & { started?: string };
        if (typeof o.session !== "number") throw new Error("no session");
        last = Math.max(last, o.session);
        if (typeof o.line === "number" && typeof o.source === "string") {
          this.entries.push({ session: o.session, line: o.line, source: o.source, output: o.output ?? null });
        }
      } catch {
        log(`history: ignoring malformed line ${i + 1} of ${path}`);
      }
    });
    this.session = last + 1;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "a", 0o600);
    this.write({ session: this.session, started: new Date().toISOString() });
  }

  private write(record: object): void {
    writeSync(this.fd, JSON.stringify(record) + "\n");
  }

  add(line: number, source: string, output: string | null): void {
    const entry = { session: this.session, line, source, output };
    this.entries.push(entry);
    this.write(entry);
  }

  private rows(entries: HistoryEntry[], output: boolean): HistoryRow[] {
    return entries.map((e) => [e.session, e.line, output ? [e.source, e.output] : e.source]);
  }

  /** The last `n` entries over all sessions, oldest first. */
  tail(n: number, output: boolean): HistoryRow[] {
    return this.rows(n > 0 ? this.entries.slice(-n) : [], output);
  }

  /**
   * Lines `start` (inclusive) to `stop` (exclusive; to the end when null) of a session; a session number
   * of 0 or below counts back from the current one (0 is the current, -1 the one before).
   */
  range(session: number, start: number, stop: number | null, output: boolean): HistoryRow[] {
    const s = session <= 0 ? this.session + session : session;
    return this.rows(
      this.entries.filter((e) => e.session === s && e.line >= start && (stop === null || e.line < stop)),
      output,
    );
  }

  /** Entries whose source matches the glob; `unique` keeps the latest of equal sources; `n` keeps the last n. */
  search(pattern: string, n: number | null, unique: boolean, output: boolean): HistoryRow[] {
    const re = globToRegExp(pattern);
    let found = this.entries.filter((e) => re.test(e.source));
    if (unique) {
      const latest = new Map<string, HistoryEntry>();
      for (const e of found) latest.set(e.source, e);
      found = found.filter((e) => latest.get(e.source) === e);
    }
    if (n !== null && n > 0) found = found.slice(-n);
    return this.rows(found, output);
  }
}
