/**
 * The Jupyter wire format: `<IDS|MSG>` framing, HMAC-SHA256 signatures compared in constant time, and a
 * bounded memory of seen signatures so a replayed message is refused.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type { KernelMessage } from "@jupyterlab/services";

export const DELIMITER = "<IDS|MSG>";
export const PROTOCOL_VERSION = "5.3";

/** A message header; msg_type is a plain string because peers may send types we do not know. */
export type Header = Omit<KernelMessage.IHeader, "msg_type"> & { msg_type: string };
export type JsonObject = Record<string, unknown>;

export interface Message {
  /** ZeroMQ routing identities (router sockets) or the topic (iopub). */
  identities: Buffer[];
  header: Header;
  /** The header of the request this message answers, or `{}`. */
  parentHeader: Header | Record<string, never>;
  metadata: JsonObject;
  content: JsonObject;
  buffers: Buffer[];
}

/** A message that could not be accepted; the reason goes to the log, the message is dropped. */
export class WireError extends Error {
  override name = "WireError";
}

export class Signer {
  private readonly key: Buffer;
  private readonly seen = new Set<string>();

  /**
   * @param key The connection file's key; empty means messages are neither signed nor checked.
   * @param historySize How many signatures are remembered to refuse replays (oldest forgotten first).
   */
  constructor(
    key: string,
    private readonly historySize = 1 << 16,
  ) {
    this.key = Buffer.from(key, "utf8");
  }

  get signing(): boolean {
    return this.key.length > 0;
  }

  sign(parts: Buffer[]): string {
    if (!this.signing) return "";
    const hmac = createHmac("sha256", this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest("hex");
  }

  /** Throws WireError unless `signature` is the valid, never-seen-before signature of `parts`. */
  verify(signature: string, parts: Buffer[]): void {
    if (!this.signing) return;
    if (signature.length === 0) throw new WireError("unsigned message");
    const expected = Buffer.from(this.sign(parts), "utf8");
    const given = Buffer.from(signature, "utf8");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WireError("invalid signature");
    }
    if (this.seen.has(signature)) throw new WireError("replayed signature");
    this.seen.add(signature);
    if (this.seen.size > this.historySize) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }
}

function parseObject(frame: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString("utf8"));
  } catch {
    throw new WireError(`${what} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireError(`${what} is not a JSON object`);
  }
  return value as JsonObject;
}

/** Parses and authenticates the frames of one incoming multipart message. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("latin1") === DELIMITER);
  if (at < 0) throw new WireError("no <IDS|MSG> delimiter");
  if (frames.length < at + 6) throw new WireError(`expected 5 frames after the delimiter, got ${frames.length - at - 1}`);
  const signed = frames.slice(at + 2, at + 6);
  signer.verify(frames[at + 1].toString("utf8"), signed);
  const header = parseObject(signed[0], "header");
  if (typeof header.msg_type !== "string" || typeof header.msg_id !== "string") {
    throw new WireError("header without msg_type or msg_id");
  }
  return {
    identities: frames.slice(0, at),
    header: header as Header,
    parentHeader: parseObject(signed[1], "parent_header") as Header,
    metadata: parseObject(signed[2], "metadata"),
    content: parseObject(signed[3], "content"),
    buffers: frames.slice(at + 6),
  };
}

/** Serializes a message to frames, signing it. */
export function encode(message: Message, signer: Signer): Buffer[] {
  const parts = [message.header, message.parentHeader, message.metadata, message.content].map((p) =>
    Buffer.from(JSON.stringify(p), "utf8"),
  );
  return [...message.identities, Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts, ...message.buffers];
}

/** Builds headers for the messages this side sends. */
export class Session {
  readonly id = randomUUID();
  constructor(private readonly username = "kernel") {}

  header(msgType: string): Header {
    return {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: this.id,
      username: this.username,
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    };
  }

  /** A message of `msgType`, answering `parent` (or unparented), routed to `identities`. */
  message(
    msgType: string,
    content: JsonObject,
    parent?: Message,
    identities: Buffer[] = parent?.identities ?? [],
    metadata: JsonObject = {},
  ): Message {
    return {
      identities,
      header: this.header(msgType),
      parentHeader: parent?.header ?? {},
      metadata,
      content,
      buffers: [],
    };
  }
}
