/**
 * Type-checks notebook cells against the cells that ran before them, transpiles them for V8's REPL mode, and
 * answers completion, inspection and is-complete requests, all with one TypeScript language service.
 *
 * Every cell is a virtual module in the notebook's folder. A committed cell exports its top-level names and
 * is kept as its declarations (.d.ts); a later cell imports, on a generated line before its code, the latest
 * version of every name it may use, so a re-declared `const x` simply comes from the later cell. An earlier
 * `let` is declared instead (`declare let x: typeof import(...).x`) so that it stays assignable. Diagnostics
 * are reported for the current cell only, in the cell's own lines and columns.
 */
import path from "node:path";
import type * as TS from "typescript";
import { ts } from "./typescript-api.js";
import { KERNEL_GLOBALS } from "./typescript-globals.js";
import { libBundle, libOrigin } from "./typescript-lib.js";
import { transpileCell } from "./typescript-transpile.js";
import type { CompleteReply, InspectReply, IsCompleteReply } from "./types.js";

export interface CellDiagnostic {
  /** 1-based line in the cell. */
  line: number;
  /** 1-based column in the cell (UTF-16 code units, as in V8's stack traces). */
  column: number;
  message: string;
  /** The TypeScript error code (TS2322 → 2322). */
  code: number;
}

export type CompileResult = { ok: true; js: string } | { ok: false; diagnostics: CellDiagnostic[] };

/** How a cell that compiled may be reused (see CellCompiler.compiledReuse). */
export interface CompiledReuse {
  /** Whether committing it changes what later cells see (false: its commit can be left out). */
  records: boolean;
  /** Whether its script stays valid, without a check, until the next commit that records something. */
  reusable: boolean;
}

export interface CellCompilerOptions {
  /** The notebook's folder: relative imports and the user's packages resolve from here. */
  cwd: string;
  /** Root of the dropout-lab package: its node_modules provides @types/node and typescript. */
  kernelRoot: string;
  /** Whether a cell may be checked in place, in the previous program's checker (default true; see `checkedInPlace`). */
  checkInPlace?: boolean;
}

/** How a top-level name was declared; decides what assigning to it from a later cell means. */
type BindingKind = "let" | "const" | "function" | "class" | "enum" | "namespace" | "import" | "type";

/** What an earlier cell's `let` is imported as, before the prefix declares it again as a `let`. */
const LET_ALIAS = "__dropoutLabLet_";
/** How many checked cells are remembered (see CellCompiler.#checked). */
const CHECKED_LIMIT = 256;
/** Module specifier of a committed cell in the generated prefixes. */
const CELL_SPECIFIER = /^dropout-lab:cell\/(\d+)$/;

const OPTIONS: TS.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  moduleDetection: ts.ModuleDetectionKind.Force,
  customConditions: ["node"],
  lib: ["lib.es2023.d.ts"],
  types: ["node"],
  esModuleInterop: true,
  resolveJsonModule: true,
  skipLibCheck: true,
  // Only declarations are ever emitted: a committed cell is kept as its .d.ts (see `commit`).
  declaration: true,
  emitDeclarationOnly: true,
};

/** The lib OPTIONS select, in one file (see typescript-lib.ts); programs load it instead. */
const LIB = libBundle(OPTIONS);
const COMPILER_OPTIONS: TS.CompilerOptions = { ...OPTIONS, lib: [LIB.name] };

/**
 * TypeScript internals (of the pinned typescript 6.0.3) for checking a cell in place (see
 * CellCompiler.#checkInPlace): the binder, a checker's diagnostics for one file, and a source file's path and
 * diagnostics as a program sees them.
 */
interface Internals {
  bindSourceFile(file: TS.SourceFile, options: TS.CompilerOptions): void;
}
type InternalFile = TS.SourceFile & {
  path: string;
  resolvedPath: string;
  originalFileName: string;
  parseDiagnostics?: readonly TS.Diagnostic[];
  bindDiagnostics: readonly TS.Diagnostic[];
};
type InternalChecker = TS.TypeChecker & { getDiagnostics?(file: TS.SourceFile): readonly TS.Diagnostic[] };
const internals = ts as unknown as Internals;
/** How many cells are checked in place in one checker before a new program (each leaves its nodes' data there). */
const IN_PLACE_LIMIT = 100;

/** Diagnostics a notebook does not want: an import of an untyped JavaScript package is simply `any`. */
const IGNORED_CODES = new Set([7016]);
/** "Cannot assign to 'x' because it is an import." — an earlier cell's binding, see `assignmentError`. */
const ASSIGN_TO_IMPORT = 2632;

/**
 * Shared by all compilers in the process, so that lib and @types files are parsed once. It keeps every file
 * it parsed: a package a cell imported drops out of the next program when that cell's names are not used,
 * and would otherwise be parsed again when a later cell uses them.
 */
const registry: TS.DocumentRegistry = { ...ts.createDocumentRegistry(), releaseDocument() {}, releaseDocumentWithKey() {} };
/** Numbers the compilers: their virtual files must not meet in the shared registry. */
let compilers = 0;

/** The top-level names a cell declares (value kinds win over type-only ones) and those it exports itself. */
function declaredNames(source: TS.SourceFile): { names: Map<string, BindingKind>; exported: Set<string> } {
  const names = new Map<string, BindingKind>();
  const exported = new Set<string>();
  const add = (name: TS.Identifier | undefined, kind: BindingKind, node?: TS.Node) => {
    if (!name) return;
    const before = names.get(name.text);
    if (!before || before === "type") names.set(name.text, kind);
    const modifiers = node && ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
    const isExport = modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    const isDefault = modifiers?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
    if (isExport && !isDefault) exported.add(name.text);
  };
  const addBinding = (name: TS.BindingName, kind: BindingKind, node: TS.Node): void => {
    if (ts.isIdentifier(name)) add(name, kind, node);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name, kind, node);
  };
  // `var`s in top-level blocks and loops belong to the cell's scope too (`for (var i = 0; ...)`).
  const addVars = (node: TS.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node) || ts.isModuleDeclaration(node)) return;
    if (ts.isVariableDeclarationList(node) && !(node.flags & ts.NodeFlags.BlockScoped)) {
      for (const d of node.declarations) addBinding(d.name, "let", node);
    }
    ts.forEachChild(node, addVars);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      const flags = statement.declarationList.flags;
      const kind = flags & (ts.NodeFlags.Const | ts.NodeFlags.Using) ? "const" : "let";
      for (const d of statement.declarationList.declarations) addBinding(d.name, kind, statement);
    } else if (ts.isFunctionDeclaration(statement)) add(statement.name, "function", statement);
    else if (ts.isClassDeclaration(statement)) add(statement.name, "class", statement);
    else if (ts.isEnumDeclaration(statement)) add(statement.name, "enum", statement);
    else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) add(statement.name, "type", statement);
    else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name) && !isAugmentation(statement)) {
      add(statement.name, "namespace", statement);
    }
    else if (ts.isImportEqualsDeclaration(statement)) add(statement.name, "import", statement);
    else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      add(clause.name, "import");
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) add(bindings.name, "import");
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) add(e.name, "import");
    } else if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (!statement.moduleSpecifier && clause && ts.isNamedExports(clause)) for (const e of clause.elements) exported.add(e.name.text);
    } else addVars(statement);
  }
  return { names, exported };
}

/** `declare global { ... }` or `declare module "x" { ... }`: declarations that change scopes beyond the cell. */
function isAugmentation(statement: TS.Statement): boolean {
  return ts.isModuleDeclaration(statement) && (ts.isStringLiteral(statement.name) || (statement.flags & ts.NodeFlags.GlobalAugmentation) !== 0);
}

/** Every identifier text in a cell: the earlier names it may refer to. */
function identifiers(source: TS.SourceFile): Set<string> {
  const out = new Set<string>();
  const visit = (node: TS.Node): void => {
    if (ts.isIdentifier(node)) out.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Whether a cell names a module or file: imports, `import()` and import types, `declare module "x"`, references. */
function referencesModules(source: TS.SourceFile): boolean {
  if (source.referencedFiles.length || source.typeReferenceDirectives.length || source.libReferenceDirectives.length) return true;
  const visit = (node: TS.Node): boolean =>
    ts.isImportDeclaration(node) ||
    ts.isImportEqualsDeclaration(node) ||
    (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) ||
    ts.isImportTypeNode(node) ||
    (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) ||
    (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) ||
    !!ts.forEachChild(node, visit);
  return !!ts.forEachChild(source, visit);
}

/**
 * A cell that declares, imports, augments and references nothing leaves later cells nothing: committing it
 * changes nothing (keeping it would only grow every later program, a long session's memory and time per cell).
 */
function leavesNothing(source: TS.SourceFile): boolean {
  return (
    declaredNames(source).names.size === 0 &&
    !source.statements.some((s) => isAugmentation(s) || ts.isImportDeclaration(s)) &&
    !source.referencedFiles.length &&
    !source.typeReferenceDirectives.length
  );
}

/** A cell that names no module or file and augments no scope: it changes nothing beyond its own module. */
function isPlain(source: TS.SourceFile): boolean {
  return !referencesModules(source) && !source.statements.some(isAugmentation);
}

function parse(code: string): TS.SourceFile {
  return ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** UTF-16 offset of the code point index `cursor` (Jupyter counts code points). */
function toUtf16(text: string, cursor: number): number {
  let offset = 0;
  for (let seen = 0; seen < cursor && offset < text.length; seen++) {
    offset += text.codePointAt(offset)! > 0xffff ? 2 : 1;
  }
  return offset;
}

/** Code point index of the UTF-16 offset `offset`. */
function toCodePoints(text: string, offset: number): number {
  return [...text.slice(0, offset)].length;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** Where a name is declared: the name's span and the whole declaration's. */
interface Declaration {
  fileName: string;
  textSpan: TS.TextSpan;
  contextSpan?: TS.TextSpan;
}

/** The first top-level declaration of `name` in a cell's file (its code or its .d.ts). */
function findDeclaration(file: TS.SourceFile, name: string): Declaration | undefined {
  const inBinding = (binding: TS.BindingName): TS.Identifier | undefined => {
    if (ts.isIdentifier(binding)) return binding.text === name ? binding : undefined;
    for (const element of binding.elements) {
      const found = ts.isOmittedExpression(element) ? undefined : inBinding(element.name);
      if (found) return found;
    }
    return undefined;
  };
  for (const statement of file.statements) {
    let found: TS.Node | undefined;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) found ??= inBinding(d.name);
    } else if (
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isEnumDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isModuleDeclaration(statement)
    ) {
      if (statement.name && ts.isIdentifier(statement.name) && statement.name.text === name) found = statement.name;
    }
    if (!found) continue;
    const contextStart = statement.getStart(file);
    return {
      fileName: file.fileName,
      textSpan: { start: found.getStart(file), length: name.length },
      contextSpan: { start: contextStart, length: statement.end - contextStart },
    };
  }
  return undefined;
}

/** Up to this many matches, each gets its signature in the metadata (each costs a details lookup). */
const DETAILED_COMPLETIONS = 5;

/** The type front ends show (as an icon) for a completion of TypeScript's element kind. */
function jupyterType(kind: TS.ScriptElementKind): string {
  const K = ts.ScriptElementKind;
  switch (kind) {
    case K.functionElement:
    case K.localFunctionElement:
    case K.memberFunctionElement:
    case K.constructorImplementationElement:
      return "function";
    case K.classElement:
    case K.localClassElement:
    case K.interfaceElement:
    case K.typeElement:
    case K.enumElement:
    case K.typeParameterElement:
    case K.primitiveType:
      return "class";
    case K.moduleElement:
    case K.externalModuleName:
      return "module";
    case K.keyword:
      return "keyword";
    case K.memberVariableElement:
    case K.memberGetAccessorElement:
    case K.memberSetAccessorElement:
    case K.memberAccessorVariableElement:
    case K.enumMemberElement:
      return "property";
    case K.directory:
    case K.scriptElement:
      return "path";
    default:
      return "instance";
  }
}

/** A name imported from an earlier cell is shown as what it stands for, not as an import. */
function withoutAlias(display: string): string {
  return display.replace(/^\(alias\) /, "").replace(/\nimport [\w$]+$/, "");
}

/** A cell checked: the program and file it was checked in, and the file's diagnostics. */
interface Checked {
  program: TS.Program;
  file: TS.SourceFile;
  diagnostics: readonly TS.Diagnostic[];
}

interface VirtualFile {
  text: string;
  version: number;
}

interface CommittedCell {
  file: string;
  /** The name the cell was compiled under (e.g. "cell3.ts"). */
  name: string;
  /** The cell's code (`file` holds its declarations). */
  code: string;
}

/** Where a name visible to the next cell comes from. */
interface Visible {
  cell: number;
  kind: BindingKind;
}

export class CellCompiler {
  readonly #id: number;
  readonly #cwd: string;
  readonly #kernelRoot: string;
  readonly #kernelDist: string;
  readonly #files = new Map<string, VirtualFile>();
  readonly #cells: CommittedCell[] = [];
  /** Files of committed cells with augmentations: they are in every program, the others only when imported. */
  readonly #augmenting: string[] = [];
  readonly #visible = new Map<string, Visible>();
  readonly #globalsFile: string;
  /**
   * The cell to run is checked in a program of its own (the check file after its prefix), made from the
   * previous one with a plain compiler host; completion and inspection use a language service (the edit file).
   * Both take their files from the shared registry, so each is parsed once.
   */
  readonly #checkFile: string;
  readonly #checkHost: TS.CompilerHost;
  #checkProgram: TS.Program | undefined;
  /**
   * What the check program was made with: how many cells were committed, and whether the cell in its check
   * file was plain (see isPlain); and how many cells were checked in place in it since.
   */
  #checkBasis = { cells: 0, plain: false, inPlace: 0 };
  /** The options programs parse the check file with. */
  #checkFileOptions: TS.CreateSourceFileOptions | undefined;
  readonly #inPlace: boolean;
  #checkedInPlace = 0;
  /** The check program's files by path, with the version each was read at. */
  readonly #checkSources = new Map<string, { version: string; file: TS.SourceFile }>();
  readonly #editFile: string;
  readonly #editService: TS.LanguageService;
  /** Snapshots of real files, by path and version, for the language service. */
  readonly #snapshots = new Map<string, { version: string; snapshot: TS.IScriptSnapshot | undefined }>();
  readonly #moduleCache: TS.ModuleResolutionCache;
  readonly #typeCache: TS.TypeReferenceDirectiveResolutionCache;
  #missingModule = false;
  #lastCompiled: { code: string; cellName: string; reuse: CompiledReuse } | undefined;
  /**
   * Scripts of the cells that passed the check since the last commit that changed what cells see, by their
   * code: running such a cell again skips the check. Only cells that import and reference no module are kept,
   * with the versions of the user's own files their program read (an earlier cell may import one, and it may
   * be edited beside the notebook).
   */
  readonly #checked = new Map<string, { js: string; files: [string, string][]; records: boolean }>();
  /** The prefix the last `prepare` built a program for. */
  #prepared: string | undefined;

  constructor(options: CellCompilerOptions) {
    this.#cwd = path.resolve(options.cwd);
    this.#kernelRoot = path.resolve(options.kernelRoot);
    this.#kernelDist = path.join(this.#kernelRoot, "dist") + path.sep;
    this.#id = compilers++;
    this.#inPlace = options.checkInPlace ?? true;
    this.#globalsFile = path.join(this.#cwd, `__dropout_lab_${this.#id}_globals__.d.ts`);
    this.#checkFile = path.join(this.#cwd, `__dropout_lab_${this.#id}_check__.ts`);
    this.#editFile = path.join(this.#cwd, `__dropout_lab_${this.#id}_edit__.ts`);
    this.#files.set(this.#globalsFile, { text: KERNEL_GLOBALS, version: 1 });
    const canonical = ts.sys.useCaseSensitiveFileNames ? (f: string) => f : (f: string) => f.toLowerCase();
    this.#moduleCache = ts.createModuleResolutionCache(this.#cwd, canonical, COMPILER_OPTIONS);
    this.#typeCache = ts.createTypeReferenceDirectiveResolutionCache(this.#cwd, canonical, COMPILER_OPTIONS);
    this.#checkHost = {
      ...this.#hostBase(),
      getSourceFile: (fileName, options) => this.#checkSource(fileName, options),
      getCanonicalFileName: canonical,
      getNewLine: () => "\n",
      writeFile: () => undefined,
    };
    this.#editService = ts.createLanguageService(this.#editHost(), registry);
  }

  #fileExists = (f: string): boolean => this.#files.has(f) || f === LIB.fileName || ts.sys.fileExists(f);
  #readFile = (f: string): string | undefined => {
    if (f === LIB.fileName) return LIB.text;
    return LIB.covered.has(f) ? "" : (this.#files.get(f)?.text ?? ts.sys.readFile(f));
  };

  #version(f: string): string {
    const file = this.#files.get(f);
    if (file) return String(file.version);
    // Packages and the kernel's own build never change while it runs (nor do the modules it has loaded);
    // the user's own sources may be edited beside the notebook.
    if (f.includes("/node_modules/") || f.startsWith(this.#kernelDist)) return "0";
    return String(ts.sys.getModifiedTime?.(f)?.getTime() ?? 0);
  }

  /** What both hosts share: files, folders and module resolution. */
  #hostBase() {
    return {
      // Not in the public host interface (typescript 6.0 reads it): lets each new program reuse the cached
      // package.json lookups instead of reading them again for every file.
      getModuleResolutionCache: () => this.#moduleCache,
      getCurrentDirectory: () => this.#cwd,
      getDefaultLibFileName: (o: TS.CompilerOptions) => ts.getDefaultLibFilePath(o),
      fileExists: this.#fileExists,
      readFile: this.#readFile,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
      realpath: ts.sys.realpath,
      useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
      resolveModuleNameLiterals: (
        literals: readonly TS.StringLiteralLike[],
        containingFile: string,
        _redirect: unknown,
        options: TS.CompilerOptions,
        containingSource: TS.SourceFile,
      ) =>
        literals.map((literal) =>
          this.#resolveModule(literal.text, containingFile, ts.getModeForUsageLocation(containingSource, literal, options)),
        ),
      resolveTypeReferenceDirectiveReferences: <T extends TS.FileReference | string>(
        references: readonly T[],
        containingFile: string,
        redirect: TS.ResolvedProjectReference | undefined,
        options: TS.CompilerOptions,
        containingSource: TS.SourceFile | undefined,
      ) =>
        references.map((reference) => {
          const name = typeof reference === "string" ? reference : reference.fileName.toLowerCase();
          const mode =
            typeof reference === "string" ? undefined : ts.getModeForFileReference(reference, containingSource?.impliedNodeFormat);
          const resolve = (from: string) =>
            ts.resolveTypeReferenceDirective(name, from, options, ts.sys, redirect, this.#typeCache, mode);
          const found = resolve(containingFile);
          return found.resolvedTypeReferenceDirective ? found : resolve(path.join(this.#kernelRoot, "index.ts"));
        }),
    };
  }

  /** A file of the check program: the check file parsed here, every other one from the shared registry. */
  #checkSource(fileName: string, options: TS.ScriptTarget | TS.CreateSourceFileOptions): TS.SourceFile | undefined {
    const version = this.#version(fileName);
    const cached = this.#checkSources.get(fileName);
    if (cached?.version === version) return cached.file;
    const text = this.#readFile(fileName);
    if (text === undefined) return undefined;
    if (fileName === this.#checkFile && typeof options === "object") this.#checkFileOptions = options;
    const file =
      fileName === this.#checkFile
        ? ts.createSourceFile(fileName, text, options, true)
        : registry.acquireDocument(fileName, COMPILER_OPTIONS, ts.ScriptSnapshot.fromString(text), version, undefined, options);
    this.#checkSources.set(fileName, { version, file });
    return file;
  }

  /**
   * A new check program, from the previous one: when the check file imports the same modules as before and
   * no other file changed, TypeScript reuses the previous program's whole structure.
   */
  #newCheckProgram(plain: boolean): TS.Program {
    this.#checkProgram = ts.createProgram({
      rootNames: [this.#globalsFile, ...this.#augmenting, this.#checkFile],
      options: COMPILER_OPTIONS,
      host: this.#checkHost,
      oldProgram: this.#checkProgram,
    });
    this.#checkBasis = { cells: this.#cells.length, plain, inPlace: 0 };
    return this.#checkProgram;
  }

  /** Checks a cell (its check file's `text`) in a new check program. */
  #checkInNewProgram(source: TS.SourceFile, text: string): Checked {
    this.#setText(this.#checkFile, text);
    const program = this.#newCheckProgram(isPlain(source));
    const file = program.getSourceFile(this.#checkFile)!;
    const syntactic = program.getSyntacticDiagnostics(file);
    // The program's own diagnostics: the language service's would add declaration-emit ones (made only on commit).
    return { program, file, diagnostics: syntactic.length > 0 ? syntactic : program.getSemanticDiagnostics(file) };
  }

  /**
   * Checks a cell in the check program's checker, without a new program and checker (most of a small cell's
   * check): its file, parsed and bound here, takes the place of the program's check file, whose imports (the
   * earlier cells) it shares. Only when that gives what a new program would: the program was made after the
   * last commit, from a plain cell, and the user's files it read are unchanged; the cell is plain, parses
   * without errors and has no `@ts-` comment (a program applies those); and the checker has checked fewer
   * than IN_PLACE_LIMIT cells so. Each cell's file has a name of its own: the checker keeps diagnostics by
   * file name. Otherwise undefined.
   *
   * Only for a cell that leaves nothing (see leavesNothing): a cell that declares names is committed after it
   * runs, and its declarations are emitted from the program it was checked in, whose checker has already
   * typed them (a new program would type them again).
   */
  #checkInPlace(source: TS.SourceFile, text: string): Checked | undefined {
    const program = this.#checkProgram;
    const basis = this.#checkBasis;
    if (!this.#inPlace || !program || !this.#checkFileOptions) return undefined;
    if (!basis.plain || basis.cells !== this.#cells.length || basis.inPlace >= IN_PLACE_LIMIT) return undefined;
    if (!leavesNothing(source) || !isPlain(source) || source.text.includes("@ts-")) return undefined;
    if (this.#userFiles(program).some(([f, version]) => this.#checkSources.get(f)?.version !== version)) return undefined;
    const base = program.getSourceFile(this.#checkFile) as InternalFile;
    const fileName = path.join(this.#cwd, `__dropout_lab_${this.#id}_check_${this.#checkedInPlace}__.ts`);
    const file = ts.createSourceFile(fileName, text, this.#checkFileOptions, true) as InternalFile;
    const checker = program.getTypeChecker() as InternalChecker;
    // (Were the internals not there, as in another TypeScript, the cell would go to a new program.)
    if (typeof internals.bindSourceFile !== "function" || typeof checker.getDiagnostics !== "function") return undefined;
    if (file.parseDiagnostics?.length !== 0) return undefined;
    Object.assign(file, { path: base.path, resolvedPath: base.resolvedPath, originalFileName: base.originalFileName });
    internals.bindSourceFile(file, COMPILER_OPTIONS);
    const checked = checker.getDiagnostics(file);
    basis.inPlace++;
    this.#checkedInPlace++;
    return { program, file, diagnostics: [...file.bindDiagnostics, ...checked].filter((d) => d.file === file) };
  }

  #editHost(): TS.LanguageServiceHost {
    const snapshots = this.#snapshots;
    return {
      ...this.#hostBase(),
      getCompilationSettings: () => COMPILER_OPTIONS,
      getScriptFileNames: () => [this.#globalsFile, ...this.#augmenting, this.#editFile],
      getScriptVersion: (f) => this.#version(f),
      // The language service asks for every file's snapshot for every new program: read each version once.
      getScriptSnapshot: (f) => {
        const v = this.#version(f);
        const cached = snapshots.get(f);
        if (cached?.version === v) return cached.snapshot;
        const text = this.#readFile(f);
        const snapshot = text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
        snapshots.set(f, { version: v, snapshot });
        return snapshot;
      },
    };
  }

  /**
   * Committed cells by their specifier; "dropout-lab" from the kernel's own package; everything else from the
   * importing file, then (for package names) from the kernel's install.
   */
  #resolveModule(name: string, containingFile: string, mode: TS.ResolutionMode): TS.ResolvedModuleWithFailedLookupLocations {
    const cell = CELL_SPECIFIER.exec(name);
    if (cell) {
      const resolvedFileName = this.#cells[Number(cell[1])]?.file;
      if (resolvedFileName === undefined) return { resolvedModule: undefined };
      const extension = resolvedFileName.endsWith(".d.ts") ? ts.Extension.Dts : ts.Extension.Ts;
      return { resolvedModule: { resolvedFileName, extension, isExternalLibraryImport: false } };
    }
    const fromKernel = path.join(this.#kernelRoot, "index.ts");
    const resolve = (from: string) => ts.resolveModuleName(name, from, COMPILER_OPTIONS, ts.sys, this.#moduleCache, undefined, mode);
    if (name === "dropout-lab" || name.startsWith("dropout-lab/")) return resolve(fromKernel);
    const found = resolve(containingFile);
    if (found.resolvedModule || name.startsWith(".") || path.isAbsolute(name)) return found;
    const fallback = resolve(fromKernel);
    return fallback.resolvedModule ? fallback : found;
  }

  /**
   * The prefix line that imports earlier cells' names and exports this cell's own. A `let` stays assignable
   * (and assignments type-checked) as a variable of the same type; everything else is imported, keeping its
   * value, type and namespace meanings and its documentation.
   *
   * For type-checking (and so for the declarations a commit keeps) it brings only the names the cell mentions,
   * as checking an import costs time, but always with one import statement per cell that provides names, in
   * cell order, so that the modules the current file imports are the same from cell to cell: TypeScript then
   * reuses the previous program's structure instead of walking every file again. For completion and
   * inspection it brings every name.
   */
  #prefix(source: TS.SourceFile, purpose: "check" | "edit"): string {
    const { names, exported } = declaredNames(source);
    const used = purpose === "edit" ? undefined : identifiers(source);
    const byCell = new Map<number, string[]>();
    let lets = "";
    for (const [name, { cell, kind }] of this.#visible) {
      const list = byCell.get(cell) ?? [];
      byCell.set(cell, list);
      if (names.has(name) || (used && !used.has(name))) continue;
      if (kind !== "let") list.push(name);
      else if (purpose === "edit") lets += `declare let ${name}: typeof import("dropout-lab:cell/${cell}").${name}; `;
      else {
        list.push(`${name} as ${LET_ALIAS}${name}`);
        lets += `declare let ${name}: typeof ${LET_ALIAS}${name}; `;
      }
    }
    let out = "";
    for (const [cell, list] of [...byCell].sort(([a], [b]) => a - b)) {
      out += `import { ${list.join(", ")} } from "dropout-lab:cell/${cell}"; `;
    }
    out += lets;
    const own = [...names.keys()].filter((n) => !exported.has(n));
    if (own.length > 0) out += `export { ${own.join(", ")} }; `;
    // On its own line: a comment on the prefix's line would not be the JSDoc of the cell's first statement.
    return out + "\n";
  }

  /** Puts a cell's code after its prefix in the check or edit service's current file; returns the prefix length. */
  #setCurrent(source: TS.SourceFile, purpose: "check" | "edit"): number {
    const prefix = this.#prefix(source, purpose);
    this.#setText(purpose === "check" ? this.#checkFile : this.#editFile, prefix + source.text);
    return prefix.length;
  }

  #setText(name: string, text: string): void {
    const file = this.#files.get(name);
    if (file?.text !== text) this.#files.set(name, { text, version: (file?.version ?? 0) + 1 });
  }

  /**
   * Type-checks `code` against the committed cells and transpiles it for the REPL-mode evaluator; line N of
   * the script is line N of the cell. `cellName` (e.g. "cell3.ts") names the cell once it is committed, in
   * the declaration locations that inspect shows.
   */
  compile(code: string, cellName: string): CompileResult {
    try {
      return this.#compile(code, cellName);
    } catch (error) {
      // The checker itself failed (e.g. its stack overflowed): say so instead of running unchecked code.
      const message = `TypeScript could not check this cell: ${error instanceof Error ? error.message : String(error)}`;
      return { ok: false, diagnostics: [{ line: 1, column: 1, message, code: 0 }] };
    }
  }

  #compile(code: string, cellName: string): CompileResult {
    const checked = this.#checked.get(code);
    if (checked && checked.files.every(([file, version]) => this.#version(file) === version)) {
      this.#lastCompiled = { code, cellName, reuse: { records: checked.records, reusable: checked.files.length === 0 } };
      return { ok: true, js: checked.js };
    }
    if (this.#missingModule) {
      // A package may have been installed since the last failed lookup.
      this.#moduleCache.clear();
      this.#typeCache.clear();
    }
    const source = parse(code);
    const prefix = this.#prefix(source, "check");
    const shift = prefix.length;
    const own = declaredNames(source).names;
    const { program, file: current, diagnostics: all } =
      this.#checkInPlace(source, prefix + code) ?? this.#checkInNewProgram(source, prefix + code);
    this.#missingModule = all.some((d) => d.code === 2307 || d.code === 2792);
    const diagnostics: CellDiagnostic[] = [];
    for (const d of all) {
      if (d.category !== ts.DiagnosticCategory.Error || d.start === undefined || d.start < shift) continue;
      if (IGNORED_CODES.has(d.code)) continue;
      const start = d.start - shift;
      const error = d.code === ASSIGN_TO_IMPORT ? this.#assignmentError(d, code.slice(start, start + (d.length ?? 0)), own) : d;
      const message = ts.flattenDiagnosticMessageText(error.messageText, "\n");
      diagnostics.push({ ...lineAndColumn(code, start), message, code: error.code });
    }
    if (diagnostics.length > 0) return { ok: false, diagnostics };

    const typeOnly = this.#typeOnlyImports(current, program.getTypeChecker(), shift);
    const result = transpileCell(source, (name) => !typeOnly.has(name.getStart(source)));
    if (!result.ok) {
      return {
        ok: false,
        diagnostics: result.diagnostics.map((d) => ({
          ...lineAndColumn(code, d.start ?? 0),
          message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
          code: d.code,
        })),
      };
    }
    const records = !leavesNothing(source);
    if (this.#checked.size >= CHECKED_LIMIT) this.#checked.clear();
    const files = referencesModules(source) ? undefined : this.#userFiles(program);
    if (files) this.#checked.set(code, { js: result.js, files, records });
    this.#lastCompiled = { code, cellName, reuse: { records, reusable: files?.length === 0 } };
    return result;
  }

  /** The user's own files in a program (not packages, the kernel's build or the notebook's cells), with their versions. */
  #userFiles(program: TS.Program): [string, string][] {
    const out: [string, string][] = [];
    for (const { fileName } of program.getSourceFiles()) {
      if (this.#files.has(fileName) || fileName.includes("/node_modules/") || fileName.startsWith(this.#kernelDist)) continue;
      out.push([fileName, this.#version(fileName)]);
    }
    return out;
  }

  /**
   * How many cells were checked in place: in the checker of the program made for an earlier cell or ahead of
   * this one, instead of a new program and checker each (see #checkInPlace for when).
   */
  get checkedInPlace(): number {
    return this.#checkedInPlace;
  }

  /** How the cell compiled last (`code`) may be reused, or undefined when `code` is not that cell. */
  compiledReuse(code: string): CompiledReuse | undefined {
    return this.#lastCompiled?.code === code ? this.#lastCompiled.reuse : undefined;
  }

  /**
   * Assigning to a name the prefix imports from an earlier cell: worded as TypeScript words it for a constant,
   * function, class, ... (an earlier `let` is declared, not imported, and stays assignable).
   */
  #assignmentError(
    diagnostic: TS.Diagnostic,
    name: string,
    own: Map<string, BindingKind>,
  ): Pick<TS.Diagnostic, "messageText" | "code"> {
    if (own.has(name)) return diagnostic;
    const kind = this.#visible.get(name)?.kind;
    if (kind === "const") return { messageText: `Cannot assign to '${name}' because it is a constant.`, code: 2588 };
    if (kind === "function" || kind === "class" || kind === "enum" || kind === "namespace") {
      return { messageText: `Cannot assign to '${name}' because it is a ${kind}.`, code: ASSIGN_TO_IMPORT };
    }
    return { messageText: `Cannot assign to '${name}' because it is an import.`, code: ASSIGN_TO_IMPORT };
  }

  /** Cell offsets of the cell's own import bindings that name only types (they are not emitted). */
  #typeOnlyImports(file: TS.SourceFile, checker: TS.TypeChecker, shift: number): Set<number> {
    const out = new Set<number>();
    const check = (name: TS.Identifier | undefined) => {
      if (!name) return;
      const symbol = checker.getSymbolAtLocation(name);
      if (!symbol || !(symbol.flags & ts.SymbolFlags.Alias)) return;
      const target = checker.getAliasedSymbol(symbol);
      if (!(target.flags & ts.SymbolFlags.Value)) out.add(name.getStart(file) - shift);
    };
    for (const statement of file.statements) {
      if (!ts.isImportDeclaration(statement) || statement.getStart(file) < shift || !statement.importClause) continue;
      const clause = statement.importClause;
      check(clause.name);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) check(bindings.name);
      if (bindings && ts.isNamedImports(bindings)) bindings.elements.forEach((e) => check(e.name));
    }
    return out;
  }

  /**
   * Adds a cell that ran to the history: its top-level names replace earlier ones of the same name. The cell
   * is kept as its declarations (.d.ts), so that later cells read its types instead of inferring them again
   * from its code, cell after cell, in every new program. A cell that declares nothing leaves nothing.
   */
  commit(code: string): void {
    const index = this.#cells.length;
    const source = parse(code);
    if (leavesNothing(source)) return;
    const { names } = declaredNames(source);
    const augments = source.statements.some(isAugmentation);
    this.#setCurrent(source, "check");
    const base = path.join(this.#cwd, `__dropout_lab_${this.#id}_cell_${index}__`);
    const emitted = this.#declarations();
    const file = emitted ? `${base}.d.ts` : `${base}.ts`;
    this.#files.set(file, { text: emitted ?? this.#files.get(this.#checkFile)!.text, version: 1 });
    const name = this.#lastCompiled?.code === code ? this.#lastCompiled.cellName : `cell ${index + 1}`;
    this.#cells.push({ file, name, code });
    this.#checked.clear();
    if (augments) this.#augmenting.push(file);
    for (const [name, kind] of names) this.#visible.set(name, { cell: index, kind });
  }

  /**
   * Builds the program the next cell will be checked in, with the modules it imports, ahead of that cell
   * (call it while idle, after `commit`): checking a cell that imports no new module then reuses it.
   */
  prepare(): void {
    const prefix = this.#prefix(parse(""), "check");
    if (prefix === this.#prepared) return;
    this.#prepared = prefix;
    this.#setCurrent(parse(""), "check");
    // Its checker too, with the earlier cells' types it resolves, ready for a cell checked in place.
    const program = this.#newCheckProgram(true);
    program.getSemanticDiagnostics(program.getSourceFile(this.#checkFile));
  }

  /** The check file's declarations, or undefined when TypeScript cannot make them (then the code is kept). */
  #declarations(): string | undefined {
    try {
      let declarations: string | undefined;
      const current = this.#checkProgram?.getSourceFile(this.#checkFile);
      const program = current?.text === this.#files.get(this.#checkFile)?.text ? this.#checkProgram! : this.#newCheckProgram(false);
      const write = (name: string, text: string) => void (name.endsWith(".d.ts") && (declarations = text));
      program.emit(program.getSourceFile(this.#checkFile), write, undefined, true);
      return declarations;
    } catch {
      return undefined;
    }
  }

  complete(code: string, cursorPos: number): CompleteReply {
    const cursor = toUtf16(code, cursorPos);
    const shift = this.#setCurrent(parse(code), "edit");
    let start = cursor;
    while (start > 0 && /[\p{ID_Continue}$\u200c\u200d]/u.test(code[start - 1]!)) start--;
    const completions = this.#editService.getCompletionsAtPosition(this.#editFile, cursor + shift, {
      includeCompletionsForModuleExports: false,
      includeCompletionsWithInsertText: false,
    });
    const entries = completions?.entries ?? [];
    const span = entries.find((e) => e.replacementSpan)?.replacementSpan;
    if (span) start = span.start - shift;
    const word = code.slice(start, cursor);
    const matches = entries
      .filter((e) => e.name.toLowerCase().startsWith(word.toLowerCase()))
      .sort((a, b) => (a.sortText === b.sortText ? (a.name < b.name ? -1 : 1) : a.sortText < b.sortText ? -1 : 1));
    const cursorStart = toCodePoints(code, start);
    const cursorEnd = toCodePoints(code, cursor);
    const detailed = matches.length <= DETAILED_COMPLETIONS;
    const types = matches.map((entry) => {
      const item = { start: cursorStart, end: cursorEnd, text: entry.name, type: this.#completionType(entry) };
      if (!detailed) return item;
      const details = this.#editService.getCompletionEntryDetails(
        this.#editFile, cursor + shift, entry.name, undefined, entry.source, undefined, entry.data,
      );
      return details ? { ...item, signature: withoutAlias(ts.displayPartsToString(details.displayParts)) } : item;
    });
    return {
      matches: matches.map((e) => e.name),
      cursorStart,
      cursorEnd,
      metadata: { _jupyter_types_experimental: types },
    };
  }

  /** The Jupyter type of a completion; a name from an earlier cell is typed by its declaration there. */
  #completionType(entry: TS.CompletionEntry): string {
    const kind = entry.kind === ts.ScriptElementKind.alias ? this.#visible.get(entry.name)?.kind : undefined;
    if (kind === "function") return "function";
    if (kind === "class" || kind === "type" || kind === "enum") return "class";
    if (kind === "namespace") return "module";
    return jupyterType(entry.kind);
  }

  inspect(code: string, cursorPos: number, detailLevel: number): InspectReply {
    const cursor = toUtf16(code, cursorPos);
    const shift = this.#setCurrent(parse(code), "edit");
    const at = (offset: number) =>
      offset < 0 ? undefined : this.#editService.getQuickInfoAtPosition(this.#editFile, offset + shift);
    const quickInfo = at(cursor) ?? at(cursor - 1);
    if (!quickInfo) return { found: false, data: {} };
    const { info, declaration } = this.#declared(quickInfo, shift);
    const signature = withoutAlias(ts.displayPartsToString(info.displayParts));
    const documentation = ts.displayPartsToString(info.documentation);
    const tags = (info.tags ?? []).map((tag) => {
      const text = ts.displayPartsToString(tag.text);
      const marked = (tag.text ?? []).map((p) => (p.kind === "parameterName" ? `\`${p.text}\`` : p.text)).join("");
      return { plain: `@${tag.name}${text ? ` ${text}` : ""}`, markdown: `*@${tag.name}*${marked ? ` ${marked}` : ""}` };
    });
    const plain = [signature, documentation, tags.map((t) => t.plain).join("\n")].filter(Boolean);
    const markdown = ["```typescript\n" + signature + "\n```", documentation, tags.map((t) => t.markdown).join("\n\n")].filter(Boolean);
    if (detailLevel > 0) {
      const source = declaration && this.#declarationSource(declaration);
      if (source) {
        plain.push(`Defined in ${source.where}:\n${source.text}`);
        markdown.push(`Defined in ${source.where}:\n\n\`\`\`typescript\n${source.text}\n\`\`\``);
      }
    }
    return { found: true, data: { "text/plain": plain.join("\n\n"), "text/markdown": markdown.join("\n\n") } };
  }

  /**
   * Quick info and location of the declaration a name in the current cell stands for, looking through the
   * prefix (imports and `declare let`s of earlier cells' names) and through imports of packages.
   */
  #declared(info: TS.QuickInfo, shift: number): { info: TS.QuickInfo; declaration?: Declaration } {
    const definition = this.#editService.getDefinitionAtPosition(this.#editFile, info.textSpan.start)?.[0];
    if (!definition) return { info };
    let declaration: Declaration = definition;
    if (definition.fileName === this.#editFile && definition.textSpan.start < shift) {
      const name = definition.name;
      const cell = this.#visible.get(name)?.cell;
      const file = cell === undefined ? undefined : this.#editService.getProgram()?.getSourceFile(this.#cells[cell]!.file);
      const found = file && findDeclaration(file, name);
      if (!found) return { info };
      declaration = found;
    } else if (info.kind !== ts.ScriptElementKind.alias) {
      return { info, declaration };
    }
    const original = this.#editService.getQuickInfoAtPosition(declaration.fileName, declaration.textSpan.start);
    return { info: original ?? info, declaration };
  }

  /** Where a declaration is ("cell3.ts, line 2") and its source text (at most 60 lines). */
  #declarationSource(declaration: Declaration): { where: string; text: string } | undefined {
    let file = this.#editService.getProgram()?.getSourceFile(declaration.fileName);
    if (!file) return undefined;
    // A declaration of the default lib is placed in its own lib file.
    const start = (declaration.contextSpan ?? declaration.textSpan).start;
    const origin = declaration.fileName === LIB.fileName ? libOrigin(LIB, start) : undefined;
    const fileName = origin?.fileName ?? declaration.fileName;
    // A package file is named from its package ("@types/node/path.d.ts"), others from the notebook's folder.
    const packageStart = fileName.lastIndexOf("/node_modules/");
    let where =
      fileName === this.#editFile
        ? "this cell"
        : packageStart >= 0
          ? fileName.slice(packageStart + "/node_modules/".length)
          : path.relative(this.#cwd, fileName);
    const cell = this.#cells.find((c) => c.file === declaration.fileName);
    if (cell) {
      // Show the cell's own code rather than its declarations.
      const name = file.text.substr(declaration.textSpan.start, declaration.textSpan.length);
      const code = parse(cell.code);
      const found = findDeclaration(code, name);
      if (found) [file, declaration] = [code, found];
      where = cell.name;
    }
    const span = declaration.contextSpan ?? declaration.textSpan;
    const lines = file.text.slice(span.start, span.start + span.length).split("\n");
    const text = lines.length > 60 ? [...lines.slice(0, 60), "..."].join("\n") : lines.join("\n");
    const line = origin?.line ?? file.getLineAndCharacterOfPosition(span.start).line + 1;
    return { where: declaration.fileName === this.#editFile ? where : `${where}, line ${line}`, text };
  }

  isComplete(code: string): IsCompleteReply {
    const { diagnostics } = ts.transpileModule(code, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleDetection: ts.ModuleDetectionKind.Force },
      reportDiagnostics: true,
    });
    const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error && d.start !== undefined);
    if (errors.length === 0) return { status: "complete" };
    const end = code.trimEnd().length;
    const continues = (d: TS.Diagnostic) =>
      d.code === UNTERMINATED_TEMPLATE ||
      d.code === UNTERMINATED_COMMENT ||
      (d.code === UNTERMINATED_STRING && code.trimEnd().endsWith("\\")) ||
      (d.start! >= end && d.code !== UNTERMINATED_STRING);
    if (!errors.every(continues)) return { status: "invalid" };
    if (errors.some((d) => d.code === UNTERMINATED_TEMPLATE || d.code === UNTERMINATED_STRING)) {
      // Spaces added at the start of the next line would become part of the string.
      return { status: "incomplete", indent: "" };
    }
    // The next line continues at the last written line's indentation, one level deeper after an opener.
    const lastLine = code.trimEnd().split("\n").pop()!;
    const indent = /^[ \t]*/.exec(lastLine)![0];
    return { status: "incomplete", indent: /[{([]$/.test(lastLine.trimEnd()) ? indent + "  " : indent };
  }
}

const UNTERMINATED_STRING = 1002;
const UNTERMINATED_TEMPLATE = 1160;
const UNTERMINATED_COMMENT = 1010;
