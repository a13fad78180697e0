/**
 * Turns one type-checked cell into JavaScript for V8's REPL mode: static imports become awaited calls of
 * `globalThis.__dropoutLabImport`, `export` keywords go, types are erased by the TypeScript emitter, and the
 * emitted code is laid back onto the cell's own lines (with the emitter's source map) so that line N of the
 * output is line N of the cell. Nothing is wrapped: the script's completion value is the cell's last
 * expression, and a cell that ends in anything else gets `void 0` appended, so that it has no result.
 */
import type * as TS from "typescript";
import { ts } from "./typescript-api.js";

/** The run-time import function the evaluator provides: `(specifier, options?) => Promise<namespace>`. */
export const IMPORT_FUNCTION = "globalThis.__dropoutLabImport";

/** Decides whether an import binding is emitted (false for bindings that only name types). */
export type KeepBinding = (name: TS.Identifier) => boolean;

interface Edit {
  start: number;
  end: number;
  text: string;
}

const EMIT_OPTIONS: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  sourceMap: true,
  removeComments: true,
  // A "use strict" prologue would become the completion value of a cell that only declares things.
  alwaysStrict: false,
  ignoreDeprecations: "6.0",
  newLine: ts.NewLineKind.LineFeed,
};

/** Spaces in place of everything but line breaks, so that lines and columns after it stay put. */
function blank(text: string): string {
  return text.replace(/[^\r\n]/g, " ");
}

/**
 * A removed statement becomes an empty one: without it, the statement before could run on into the one
 * after (`a = b` then `export { a }` then `(f)()` must not become `a = b(f)()`).
 */
function emptyStatement(text: string): string {
  return ";" + blank(text.slice(1));
}

/** `text` followed by as many line breaks as the replaced source had. */
function sameLines(replaced: string, text: string): string {
  return text + "\n".repeat(replaced.split("\n").length - 1);
}

function importOptions(node: TS.ImportDeclaration, source: TS.SourceFile): string {
  const attributes = node.attributes;
  if (!attributes || attributes.elements.length === 0) return "";
  const entries = attributes.elements.map((e) => `${e.name.getText(source)}: ${e.value.getText(source)}`);
  return `, { with: { ${entries.join(", ")} } }`;
}

/** The statements replacing one static import, or "" when nothing of it exists at run time. */
function rewriteImport(node: TS.ImportDeclaration, source: TS.SourceFile, keep: KeepBinding): string {
  const specifier = (node.moduleSpecifier as TS.StringLiteral).text;
  const load = `await ${IMPORT_FUNCTION}(${JSON.stringify(specifier)}${importOptions(node, source)})`;
  const clause = node.importClause;
  if (!clause) return `${load};`;
  if (clause.isTypeOnly) return "";
  const out: string[] = [];
  if (clause.name && keep(clause.name)) {
    out.push(`const ${clause.name.text} = ((m) => "default" in m ? m.default : m)(${load});`);
  }
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings) && keep(bindings.name)) {
    out.push(`const ${bindings.name.text} = ${load};`);
  }
  if (bindings && ts.isNamedImports(bindings)) {
    const parts = bindings.elements
      .filter((e) => !e.isTypeOnly && keep(e.name))
      .map((e) => (e.propertyName ? `${e.propertyName.getText(source)}: ${e.name.text}` : e.name.text));
    if (parts.length > 0) out.push(`const { ${parts.join(", ")} } = ${load};`);
  }
  return out.join(" ");
}

/** Source edits that leave a script: imports rewritten, exports unwrapped, `import()` redirected. */
function scriptEdits(source: TS.SourceFile, keep: KeepBinding): Edit[] {
  const edits: Edit[] = [];
  const text = source.text;
  const replace = (start: number, end: number, by: (old: string) => string) =>
    edits.push({ start, end, text: by(text.slice(start, end)) });

  for (const statement of source.statements) {
    const start = statement.getStart(source);
    if (ts.isImportDeclaration(statement)) {
      replace(start, statement.end, (old) => sameLines(old, rewriteImport(statement, source, keep) || ";"));
    } else if (ts.isExportDeclaration(statement)) {
      replace(start, statement.end, emptyStatement);
    } else if (ts.isExportAssignment(statement)) {
      // `export default value` keeps the value as an expression statement.
      replace(start, statement.expression.getStart(source), emptyStatement);
    } else if (ts.canHaveModifiers(statement)) {
      for (const modifier of ts.getModifiers(statement) ?? []) {
        if (modifier.kind === ts.SyntaxKind.ExportKeyword || modifier.kind === ts.SyntaxKind.DefaultKeyword) {
          replace(modifier.getStart(source), modifier.end, blank);
        }
      }
    }
  }
  const visit = (node: TS.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      replace(node.expression.getStart(source), node.expression.end, () => IMPORT_FUNCTION);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edits.sort((a, b) => a.start - b.start);
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = "";
  let at = 0;
  for (const edit of edits) {
    out += text.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + text.slice(at);
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

interface Mapping {
  /** Offset in the generated text. */
  offset: number;
  sourceLine: number;
  sourceColumn: number;
}

/** Decodes the "mappings" field of a version 3 source map into generated offsets and source positions. */
function decodeMappings(mappings: string, lineStarts: readonly number[]): Mapping[] {
  const out: Mapping[] = [];
  let sourceLine = 0;
  let sourceColumn = 0;
  mappings.split(";").forEach((line, generatedLine) => {
    let generatedColumn = 0;
    for (const segment of line.split(",")) {
      if (segment === "") continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      generatedColumn += fields[0]!;
      if (fields.length < 4) continue;
      sourceLine += fields[2]!;
      sourceColumn += fields[3]!;
      out.push({ offset: lineStarts[generatedLine]! + generatedColumn, sourceLine, sourceColumn });
    }
  });
  return out.sort((a, b) => a.offset - b.offset);
}

/** Offsets of line breaks that belong to a token (template literals, line continuations in strings). */
function tokenLineBreaks(js: string): Set<number> {
  const inside = new Set<number>();
  // Only template literals and strings continued with a backslash hold line breaks.
  if (!js.includes("`") && !js.includes("\\\n")) return inside;
  const file = ts.createSourceFile("out.js", js, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const visit = (node: TS.Node): void => {
    if (ts.isLiteralExpression(node) || ts.isTemplateLiteralToken(node)) {
      for (let i = node.getStart(file); i < node.end; i++) if (js[i] === "\n") inside.add(i);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return inside;
}

/**
 * Whether a line break before the token at `i` would change the program: `=>`, postfix `++`/`--`, or a token
 * after `return`, `throw`, `yield`, `break`, `continue` or `async`. (Where the source had a break between two
 * tokens that are now adjacent, types erased between them, e.g. `(x)\n: T =>`.)
 */
function restricted(out: string, js: string, i: number): boolean {
  const next = js.slice(i, i + 2);
  if (next === "=>" || next === "++" || next === "--") return true;
  return /\b(return|throw|yield|break|continue|async)\s*$/.test(out.slice(-12));
}

/**
 * Lays emitted code onto the source's lines: line breaks between tokens are dropped (the emitter ends every
 * statement explicitly, so joining lines is safe) and a token that came from a later source line starts on
 * that line again, at its source column. A line break is only inserted where the source had one between the
 * same tokens.
 */
function reflow(js: string, mappings: Mapping[]): string {
  const kept = tokenLineBreaks(js);
  let out = "";
  let line = 0;
  let next = 0;
  let target: Mapping | undefined;
  let pendingBreak = false;
  for (let i = 0; i < js.length; i++) {
    while (next < mappings.length && mappings[next]!.offset <= i) {
      const m = mappings[next++]!;
      if (!target || m.offset > target.offset) target = m;
    }
    const char = js[i]!;
    if (char === "\n" && !kept.has(i)) {
      pendingBreak = true;
      continue;
    }
    if (pendingBreak && (char === " " || char === "\t")) continue;
    if (target && target.sourceLine > line && !restricted(out, js, i)) {
      out += "\n".repeat(target.sourceLine - line) + " ".repeat(target.sourceColumn);
      line = target.sourceLine;
    } else if (pendingBreak) {
      out += " ";
    }
    pendingBreak = false;
    target = undefined;
    if (char === "\n") line++;
    out += char;
  }
  return out;
}

/** A statement that leaves no code at run time: a type, an interface, an ambient declaration, `;`. */
function typeOnly(statement: TS.Statement): boolean {
  return ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEmptyStatement(statement) ||
    (ts.canHaveModifiers(statement) && !!ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword));
}

/**
 * As in IPython, only a cell whose last statement that runs is an expression has a result; otherwise the
 * script's completion value would be an earlier statement's (`x += 1; const h = f()` would show x).
 */
function endsInExpression(source: TS.SourceFile): boolean {
  const last = source.statements.filter((s) => !typeOnly(s)).at(-1);
  return !!last && (ts.isExpressionStatement(last) || ts.isExportAssignment(last));
}

export type TranspileResult =
  | { ok: true; js: string }
  | { ok: false; diagnostics: readonly TS.Diagnostic[] };

/**
 * What the emitter would change in a cell, from the flags the parser sets on every node (TypeScript's own
 * transformers skip a subtree by the same flags; they are not in its public typings): types and other
 * TypeScript-only syntax, JSX, syntax newer than ES2022, decorators and class fields. A cell with none of
 * them, and without imports, exports or `import()` (which `scriptEdits` rewrites), is emitted as it is.
 */
const EMITTER_CHANGES = (() => {
  const flags = (ts as unknown as { TransformFlags?: Record<string, number> }).TransformFlags;
  const names = ["ContainsTypeScript", "ContainsJsx", "ContainsESNext", "ContainsDecorators", "ContainsClassFields", "ContainsDynamicImport"];
  return flags && names.every((n) => typeof flags[n] === "number") ? names.reduce((all, n) => all | flags[n]!, 0) : undefined;
})();

/** Whether the cell is already the script its emit would be: plain JavaScript of ES2022 without modules. */
function isPlainScript(source: TS.SourceFile): boolean {
  const flags = (source as unknown as { transformFlags?: number }).transformFlags;
  if (EMITTER_CHANGES === undefined || typeof flags !== "number" || (flags & EMITTER_CHANGES) !== 0) return false;
  return !source.statements.some(
    (s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s) || ts.isExportDeclaration(s) || ts.isExportAssignment(s) ||
      (ts.canHaveModifiers(s) && !!ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)),
  );
}

/** Transpiles a cell (already parsed as `source`) to a REPL-mode script with the cell's line numbers. */
export function transpileCell(source: TS.SourceFile, keep: KeepBinding = () => true): TranspileResult {
  // A line break before `void 0;`: the cell may end in a line comment.
  if (isPlainScript(source)) return { ok: true, js: endsInExpression(source) ? source.text : `${source.text}\nvoid 0;` };
  const script = applyEdits(source.text, scriptEdits(source, keep));
  const emitted = ts.transpileModule(script, {
    compilerOptions: EMIT_OPTIONS,
    fileName: "cell.ts",
    reportDiagnostics: true,
  });
  const errors = (emitted.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) return { ok: false, diagnostics: errors };
  const js = emitted.outputText.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, "\n");
  const lineStarts = [0];
  for (let i = 0; i < js.length; i++) if (js[i] === "\n") lineStarts.push(i + 1);
  const map = JSON.parse(emitted.sourceMapText!) as { mappings: string };
  return { ok: true, js: reflow(js, decodeMappings(map.mappings, lineStarts)) + (endsInExpression(source) ? "" : "void 0;") };
}
