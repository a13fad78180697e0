/**
 * The notebook side of the headless runner: reading and writing nbformat 4.5 files, injecting
 * papermill-style parameters, and turning iopub messages into a cell's saved outputs.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

export type MultilineString = string | string[];

export interface CodeCell {
  cell_type: "code";
  id?: string;
  metadata: Record<string, unknown> & { tags?: string[] };
  source: MultilineString;
  execution_count: number | null;
  outputs: Output[];
}

export interface OtherCell {
  cell_type: "markdown" | "raw";
  id?: string;
  metadata: Record<string, unknown>;
  source: MultilineString;
  attachments?: Record<string, unknown>;
}

export type Cell = CodeCell | OtherCell;

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: MultilineString }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: unknown }
  | { output_type: "execute_result"; execution_count: number | null; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export const joinSource = (s: MultilineString): string => (Array.isArray(s) ? s.join("") : s);

/** Splits text into nbformat's list of lines, each keeping its newline. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Reads and checks a notebook; errors name the file and what is wrong with it. */
export function readNotebook(path: string): Notebook {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: cannot read notebook: ${(e as Error).message}`);
  }
  let nb: unknown;
  try {
    nb = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${path}: not a notebook: invalid JSON (${(e as Error).message})`);
  }
  const n = nb as Partial<Notebook>;
  if (typeof nb !== "object" || nb === null || n.nbformat !== 4) {
    throw new Error(`${path}: not an nbformat 4 notebook (nbformat is ${JSON.stringify(n?.nbformat)})`);
  }
  if (!Array.isArray(n.cells)) throw new Error(`${path}: notebook has no "cells" list`);
  n.cells.forEach((cell, i) => {
    if (typeof cell !== "object" || cell === null || !["code", "markdown", "raw"].includes(cell.cell_type)) {
      throw new Error(`${path}: cell ${i} has no valid cell_type`);
    }
    if (typeof cell.source !== "string" && !Array.isArray(cell.source)) {
      throw new Error(`${path}: cell ${i} has no source`);
    }
  });
  return { nbformat: 4, nbformat_minor: n.nbformat_minor ?? 5, metadata: n.metadata ?? {}, cells: n.cells };
}

/** Writes a notebook atomically (temp file + rename), upgraded to nbformat 4.5 with cell ids. */
export function writeNotebook(path: string, nb: Notebook): void {
  const used = new Set<string>();
  for (const cell of nb.cells) {
    let id = cell.id && /^[a-zA-Z0-9-_]{1,64}$/.test(cell.id) && !used.has(cell.id) ? cell.id : undefined;
    while (!id || used.has(id)) id = randomBytes(4).toString("hex");
    cell.id = id;
    used.add(id);
  }
  const out = { ...nb, nbformat: 4, nbformat_minor: Math.max(5, nb.nbformat_minor) };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out, null, 1) + "\n");
  renameSync(tmp, path);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Parses `name=value` pairs: a value that is valid JSON keeps its type, anything else is a string
 * (so `-p budget=smoke` and `-p seed=3` both do what one expects).
 */
export function parseParameters(pairs: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !IDENTIFIER.test(name)) {
      throw new Error(`parameter "${pair}" is not of the form name=value with an identifier name`);
    }
    const text = pair.slice(eq + 1);
    try {
      params[name] = JSON.parse(text);
    } catch {
      params[name] = text;
    }
  }
  return params;
}

/**
 * Inserts a cell tagged `injected-parameters` after the cell tagged `parameters` (or first, when there
 * is none), replacing an earlier injected cell, as papermill does.
 */
export function injectParameters(nb: Notebook, params: Record<string, unknown>): void {
  const names = Object.keys(params);
  nb.cells = nb.cells.filter((c) => !(c.metadata as { tags?: string[] }).tags?.includes("injected-parameters"));
  if (names.length === 0) return;
  const at = nb.cells.findIndex((c) => (c.metadata as { tags?: string[] }).tags?.includes("parameters"));
  const declared = at < 0 ? "" : joinSource(nb.cells[at]!.source);
  // A `let`/`var` parameter is assigned (so its declared type checks the new value); anything else is
  // declared anew with `const`, which the kernel's REPL semantics allow.
  const line = (k: string): string => {
    const assign = new RegExp(`\\b(let|var)\\s+${k.replace(/\$/g, "\\$")}\\b`).test(declared);
    return `${assign ? "" : "const "}${k} = ${JSON.stringify(params[k])};\n`;
  };
  const cell: CodeCell = {
    cell_type: "code",
    metadata: { tags: ["injected-parameters"] },
    source: names.map(line),
    execution_count: null,
    outputs: [],
  };
  nb.cells.splice(at + 1, 0, cell);
}

export interface IopubMessage {
  header: { msg_type: string };
  content: Record<string, any>;
}

/** Builds one cell's outputs from the iopub messages of its execution, as a front end would. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  private clearPending = false;
  private readonly byDisplayId = new Map<string, Output[]>();

  add(msg: IopubMessage): void {
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "stream":
        this.push({ output_type: "stream", name: c.name, text: c.text });
        break;
      case "display_data": {
        const out: Output = { output_type: "display_data", data: c.data, metadata: c.metadata ?? {} };
        this.push(out);
        const id = c.transient?.display_id;
        if (typeof id === "string") this.byDisplayId.set(id, [...(this.byDisplayId.get(id) ?? []), out]);
        break;
      }
      case "update_display_data":
        for (const out of this.byDisplayId.get(c.transient?.display_id) ?? []) {
          if (out.output_type === "display_data") {
            out.data = c.data;
            out.metadata = c.metadata ?? {};
          }
        }
        break;
      case "execute_result":
        this.push({ output_type: "execute_result", execution_count: c.execution_count, data: c.data, metadata: c.metadata ?? {} });
        break;
      case "error":
        this.push({ output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback });
        break;
      case "clear_output":
        if (c.wait) this.clearPending = true;
        else this.clear();
        break;
    }
  }

  /** The outputs in nbformat's saved form: consecutive stream text of one name merged, split in lines. */
  saved(): Output[] {
    const merged: Output[] = [];
    for (const out of this.outputs) {
      const last = merged[merged.length - 1];
      if (out.output_type === "stream" && last?.output_type === "stream" && last.name === out.name) {
        last.text = joinSource(last.text) + joinSource(out.text);
      } else {
        merged.push({ ...out });
      }
    }
    return merged.map((o) => (o.output_type === "stream" ? { ...o, text: splitLines(joinSource(o.text)) } : o));
  }

  private push(out: Output): void {
    if (this.clearPending) this.clear();
    this.outputs.push(out);
  }

  private clear(): void {
    this.clearPending = false;
    this.outputs.length = 0;
    this.byDisplayId.clear();
  }
}
