/** Tables as HTML, Markdown and plain text: results beside the paper's, and model summaries. */
import { Display, DISPLAY, type MimeBundle } from "./display.js";
import { fmt } from "./scale.js";
import { escapeXml } from "./svg.js";

type Align = "left" | "right";

interface Grid {
  title?: string;
  headers: string[];
  rows: string[][];
  align: Align[];
  footer?: string[];
}

function html(g: Grid): string {
  const cell = (tag: string, s: string, a: Align) => `<${tag} style="text-align:${a}">${escapeXml(s)}</${tag}>`;
  return [
    `<table class="dropout-lab-table">`,
    g.title ? `<caption style="font-weight:bold;text-align:left">${escapeXml(g.title)}</caption>` : "",
    `<thead><tr>${g.headers.map((h, i) => cell("th", h, g.align[i])).join("")}</tr></thead>`,
    `<tbody>${g.rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, g.align[i])).join("")}</tr>`).join("")}</tbody>`,
    g.footer ? `<tfoot><tr>${g.footer.map((c, i) => cell("th", c, g.align[i])).join("")}</tr></tfoot>` : "",
    `</table>`,
  ].join("");
}

function markdown(g: Grid): string {
  const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
  const line = (r: string[]) => `| ${r.map(esc).join(" | ")} |`;
  return [
    ...(g.title ? [`**${esc(g.title)}**`, ""] : []),
    line(g.headers),
    `|${g.align.map((a) => (a === "right" ? "---:" : ":---")).join("|")}|`,
    ...g.rows.map(line),
    ...(g.footer ? [line(g.footer.map((c) => (c ? `**${c}**` : c)))] : []),
  ].join("\n");
}

function plain(g: Grid): string {
  const all = [g.headers, ...g.rows, ...(g.footer ? [g.footer] : [])];
  const w = g.headers.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: string[]) => r.map((c, i) => (g.align[i] === "right" ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  const rule = w.map((n) => "-".repeat(n)).join("  ");
  return [...(g.title ? [g.title] : []), line(g.headers), rule, ...g.rows.map(line), ...(g.footer ? [rule, line(g.footer)] : [])].join("\n");
}

class Table extends Display {
  constructor(readonly grid: Grid) {
    super();
  }

  html(): string { return html(this.grid); }
  markdown(): string { return markdown(this.grid); }

  [DISPLAY](): MimeBundle {
    return { "text/plain": plain(this.grid), "text/html": this.html(), "text/markdown": this.markdown() };
  }
}

export type Cell = string | number | null | undefined;

export interface ResultsTableOptions {
  title?: string;
  /** Columns in order (default: the keys of all rows, in first-seen order). */
  columns?: string[];
  /** Significant digits for numbers (default 4). */
  digits?: number;
  /** Add a column `delta` = row[ours] − row[paper] (e.g. `{ ours: "test error %", paper: "paper error %" }`). */
  compare?: { ours: string; paper: string; label?: string };
}

/** Our results beside the paper's: one row per setting. */
export class ResultsTable extends Table {}

export function resultsTable(rows: readonly Record<string, Cell>[], options: ResultsTableOptions = {}): ResultsTable {
  const cols = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const c = options.compare;
  const headers = c ? [...cols, c.label ?? "delta"] : cols;
  const show = (v: Cell) => (v === null || v === undefined ? "" : typeof v === "number" ? fmt(v, options.digits ?? 4) : v);
  const body = rows.map((r) => {
    const cells = cols.map((k) => show(r[k]));
    if (c) {
      const a = r[c.ours], b = r[c.paper];
      cells.push(typeof a === "number" && typeof b === "number" ? (a - b >= 0 ? "+" : "") + fmt(a - b, options.digits ?? 4) : "");
    }
    return cells;
  });
  const align: Align[] = headers.map((h, i) =>
    body.length && body.every((r) => r[i] === "" || /^[+-]?[\d.]+(e[+-]?\d+)?%?$/.test(r[i])) ? "right" : "left");
  return new ResultsTable({ title: options.title, headers, rows: body, align });
}

/** One layer as `modelSummary` reads it (the library's model can list itself in this form). */
export interface LayerInfo {
  name: string;
  type: string;
  /** Output shape; `null` for the batch dimension. */
  outputShape?: readonly (number | null)[];
  params: number;
  /** Dropout rate (or a description such as "p=0.5, per channel"). */
  dropout?: number | string;
}

export class ModelSummary extends Table {
  constructor(grid: Grid, readonly totalParams: number) {
    super(grid);
  }
}

/** What `modelSummary` reads from a model: dropout-lab's `Module` has all of it (plot imports no nn code). */
export interface ModuleLike {
  training: boolean;
  namedChildren(): [string, ModuleLike][];
  modules(): ModuleLike[];
  parameters(): readonly { size: number }[];
  extraRepr(): string;
}

export interface ModelSummaryOptions {
  title?: string;
  /** An example input batch (a Tensor) for the output shapes: run through a `Sequential`'s layers one by one,
   * in evaluation mode (no dropout masks drawn), the modes restored afterwards. */
  input?: { readonly shape: readonly number[] };
}

const isModule = (m: unknown): m is ModuleLike =>
  typeof m === "object" && m !== null && typeof (m as ModuleLike).namedChildren === "function" && typeof (m as ModuleLike).parameters === "function";

/** One row per child of `model` (the model itself when it has none), with output shapes when `input` is given. */
function layersOf(model: ModuleLike, input?: { readonly shape: readonly number[] }): LayerInfo[] {
  const kids = model.namedChildren();
  const size = (m: ModuleLike) => m.parameters().reduce((n, t) => n + t.size, 0);
  const rows: LayerInfo[] = (kids.length ? kids : [["", model] as [string, ModuleLike]]).map(([name, m]) => {
    const extra = m.extraRepr();
    const p = (m as { p?: unknown }).p;
    return { name: name || m.constructor.name, type: m.constructor.name + (extra ? `(${extra})` : ""), params: size(m), ...(typeof p === "number" ? { dropout: p } : {}) };
  });
  const own = size(model) - rows.reduce((n, r) => n + r.params, 0);
  if (kids.length && own > 0) rows.push({ name: "(own)", type: model.constructor.name, params: own });
  if (input) {
    const layers = (model as { layers?: unknown }).layers;
    if (!Array.isArray(layers) || layers.length !== kids.length) throw new Error("modelSummary: output shapes (options.input) need a Sequential model");
    const modes = [model, ...model.modules()].map((m) => [m, m.training] as const);
    for (const [m] of modes) m.training = false;
    try {
      let x: unknown = input;
      layers.forEach((layer: { forward(x: unknown): unknown }, i) => {
        x = layer.forward(x);
        const shape = (x as { shape?: readonly number[] }).shape;
        if (shape) rows[i].outputShape = [null, ...shape.slice(1)];
      });
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  }
  return rows;
}

/**
 * A model summary table (layer, type, output shape, parameters, dropout rate) as HTML, Markdown and text:
 * `modelSummary(model)`, `modelSummary(model, { input: x })` for output shapes (a Sequential and an example
 * batch), or `modelSummary(layers)` from `LayerInfo` rows.
 */
export function modelSummary(model: readonly LayerInfo[] | ModuleLike, options: ModelSummaryOptions = {}): ModelSummary {
  if (!isModule(model) && !Array.isArray(model)) throw new Error("modelSummary: expected a model (Module) or LayerInfo rows");
  const layers: readonly LayerInfo[] = isModule(model) ? layersOf(model, options.input) : (model as readonly LayerInfo[]);
  const total = layers.reduce((a, l) => a + l.params, 0);
  const rows = layers.map((l) => [
    l.name, l.type,
    l.outputShape ? `[${l.outputShape.map((d) => (d === null ? "N" : String(d))).join(", ")}]` : "",
    l.params.toLocaleString("en-US"),
    l.dropout === undefined ? "" : String(l.dropout),
  ]);
  return new ModelSummary({
    title: options.title,
    headers: ["layer", "type", "output shape", "params", "dropout"],
    rows,
    align: ["left", "left", "left", "right", "right"],
    footer: ["total", "", "", total.toLocaleString("en-US"), ""],
  }, total);
}
