/**
 * Ambient declarations of the globals the evaluator defines in every cell (display, input, comms, ...).
 * The cell compiler adds this text to every program it type-checks.
 */
export const KERNEL_GLOBALS = `
declare namespace DropoutLabKernel {
  interface DisplayOptions {
    /** Names this output so that a later \`display(obj, { displayId, update: true })\` replaces it. */
    displayId?: string;
    /** Replace the output with this \`displayId\` (update_display_data) instead of adding one. */
    update?: boolean;
    /** Metadata sent with the output. */
    metadata?: Record<string, unknown>;
  }
  /** A value shown with one rich MIME type: what \`html\`, \`svg\` and \`md\` return. */
  interface RichText {
    readonly mimeType: string;
    readonly text: string;
    toString(): string;
  }
  /** One end of a comm channel to the front end. */
  interface Comm {
    readonly commId: string;
    readonly targetName: string;
    /** Sends a comm_msg to the front end. */
    send(data: unknown, metadata?: Record<string, unknown>): void;
    /** Closes the comm (comm_close). */
    close(data?: unknown, metadata?: Record<string, unknown>): void;
    /** Called for each comm_msg from the front end. */
    onMsg(handler: (data: unknown, metadata: Record<string, unknown>) => void): void;
    /** Called when the front end closes the comm. */
    onClose(handler: (data: unknown, metadata: Record<string, unknown>) => void): void;
  }
  interface Comms {
    /** Accepts comms the front end opens for \`targetName\`. */
    registerTarget(
      targetName: string,
      callback: (comm: Comm, data: unknown, metadata: Record<string, unknown>) => void,
    ): void;
    /** Opens a comm to the front end (comm_open). */
    open(targetName: string, data?: unknown, metadata?: Record<string, unknown>): Comm;
  }
}
/** Shows a value as output: its \`[Symbol.for("Jupyter.display")]()\` bundle, image bytes, SVG, or text. */
declare function display(obj: unknown, options?: DropoutLabKernel.DisplayOptions): void;
/** Clears the cell's output; with \`wait\`, only when the next output arrives. */
declare function clearOutput(options?: { wait?: boolean }): void;
/** HTML output: html\`<b>\${x}</b>\`. */
declare function html(strings: TemplateStringsArray, ...values: unknown[]): DropoutLabKernel.RichText;
/** SVG output: svg\`<svg ...>...</svg>\`. */
declare function svg(strings: TemplateStringsArray, ...values: unknown[]): DropoutLabKernel.RichText;
/** Markdown output: md\`# Title\`. */
declare function md(strings: TemplateStringsArray, ...values: unknown[]): DropoutLabKernel.RichText;
/** Asks the front end for a line of text. */
declare function input(prompt?: string): Promise<string>;
/** Asks the front end for a line of text without echoing it. */
declare function password(prompt?: string): Promise<string>;
/** Shows the documentation of a value. */
declare function help(x: unknown): void;
/** Comm channels to the front end (widgets and other custom messages). */
declare const comms: DropoutLabKernel.Comms;
`;
