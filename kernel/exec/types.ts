/**
 * The boundary between the protocol side of the kernel (sockets, wire, handler table) and the executor
 * (type-checking, transpiling and running cells in a worker thread). The protocol side owns one Executor.
 */

/** A mime bundle: mime type → data (string, or JSON for +json types). Always includes "text/plain". */
export type MimeBundle = Record<string, unknown>;

/** Everything a running cell can emit, in the order it happened. */
export type ExecEvent =
  | { type: "stream"; name: "stdout" | "stderr"; text: string }
  | {
      type: "display";
      data: MimeBundle;
      metadata: Record<string, unknown>;
      /** Set when the cell passed a display id; `update` means update_display_data. */
      displayId?: string;
      update?: boolean;
    }
  | { type: "clear_output"; wait: boolean }
  | { type: "comm_open"; commId: string; targetName: string; data: unknown; metadata: Record<string, unknown> }
  | { type: "comm_msg"; commId: string; data: unknown; metadata: Record<string, unknown> }
  | { type: "comm_close"; commId: string; data: unknown; metadata: Record<string, unknown> };

export interface ErrorInfo {
  ename: string;
  evalue: string;
  traceback: string[];
}

export type ExecuteOutcome =
  | {
      status: "ok";
      result?: { data: MimeBundle; metadata: Record<string, unknown> };
      /** execute_reply payloads the cell asked for, e.g. `help(x)` → `{ source: "page", data, start: 0 }`. */
      payload?: unknown[];
    }
  | ({ status: "error" } & ErrorInfo)
  | { status: "aborted" };

export interface ExecuteOptions {
  /** Execution count the protocol side assigned to this cell (for tracebacks and `In[n]` names). */
  executionCount: number;
  silent: boolean;
  storeHistory: boolean;
  allowStdin: boolean;
  /** Called for each output, in order, before `execute` resolves. */
  onEvent: (event: ExecEvent) => void;
  /** Called when the cell asks for input (`input(prompt)` / `password(prompt)`); resolves with the reply. */
  onInputRequest: (prompt: string, password: boolean) => Promise<string>;
}

export interface CompleteReply {
  matches: string[];
  cursorStart: number;
  cursorEnd: number;
  metadata: Record<string, unknown>;
}

export interface InspectReply {
  found: boolean;
  data: MimeBundle;
}

export type IsCompleteReply =
  | { status: "complete" }
  | { status: "incomplete"; indent: string }
  | { status: "invalid" }
  | { status: "unknown" };

export interface Executor {
  /** Starts the worker; resolves when a cell can run. */
  start(): Promise<void>;
  /** Runs one cell. Never rejects for errors in user code: they come back as status "error". */
  execute(code: string, options: ExecuteOptions): Promise<ExecuteOutcome>;
  /** Evaluates expressions for user_expressions after a cell (each a mime bundle or an error). */
  evaluateExpressions(
    expressions: Record<string, string>,
  ): Promise<Record<string, { status: "ok"; data: MimeBundle; metadata: Record<string, unknown> } | ({ status: "error" } & ErrorInfo)>>;
  complete(code: string, cursorPos: number): Promise<CompleteReply>;
  inspect(code: string, cursorPos: number, detailLevel: number): Promise<InspectReply>;
  isComplete(code: string): Promise<IsCompleteReply>;
  /** A comm message from the front end for a comm the cell side opened or registered a target for. */
  commOpen(commId: string, targetName: string, data: unknown, metadata: Record<string, unknown>): Promise<boolean>;
  commMsg(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void>;
  commClose(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void>;
  /** Open comms the cell side knows: comm id → target name (filtered by target when given). */
  commInfo(targetName?: string): Promise<Record<string, { target_name: string }>>;
  /** Stops the running cell (a synchronous loop too) with a KeyboardInterrupt-style error; state survives. */
  interrupt(): void;
  /** Ends the worker and everything it started. */
  shutdown(): Promise<void>;
}
