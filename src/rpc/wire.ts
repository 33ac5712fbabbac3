/**
 * msgpack framing of protocol messages, shared by the client and the mock server. Maps are plain
 * msgpack maps (no msgpackr records), binary values are `bin`, 64-bit integers come back as numbers.
 */
import { Packr, Unpackr } from "msgpackr";
import { SidecarError } from "../errors.ts";
import { OP_SCHEMAS, PROTOCOL_VERSION, ReplySchema, type Op, type RemoteError, type Reply } from "./protocol.ts";

const packr = new Packr({ useRecords: false, int64AsType: "number" });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

export function unpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

export function encodeRequest(id: string, op: string, args: Record<string, unknown>): Buffer {
  return pack({ v: PROTOCOL_VERSION, id, op, args });
}

export function encodeOk(id: string, result: unknown): Buffer {
  return pack({ v: PROTOCOL_VERSION, id, ok: true, result });
}

export function encodeErr(id: string | null, error: RemoteError): Buffer {
  return pack({ v: PROTOCOL_VERSION, id, ok: false, error });
}

/** Decodes one reply frame, or says why it is not a well-formed reply envelope (the caller logs and drops it). */
export function decodeReply(bytes: Uint8Array): { reply: Reply } | { problem: string } {
  let raw: unknown;
  try {
    raw = unpack(bytes);
  } catch (e) {
    return { problem: `reply is not msgpack (${(e as Error).message})` };
  }
  const r = ReplySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { problem: `reply envelope invalid at ${i.path.join(".") || "(root)"}: ${i.message}` };
  }
  return { reply: r.data };
}

/** One readable line for a zod failure: `field items.0.prefix: Too small ...`. */
export function zodLine(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = err.issues[0];
  return `field ${i.path.map(String).join(".") || "(root)"}: ${i.message}`;
}

export function validateArgs<O extends Op>(op: O, args: unknown): Record<string, unknown> {
  const schema = OP_SCHEMAS[op]?.args;
  if (!schema) throw new SidecarError(`unknown sidecar op "${String(op)}"`, "sidecar_unknown_op");
  const r = schema.safeParse(args ?? {});
  if (!r.success) throw new SidecarError(`sidecar ${op}: invalid args, ${zodLine(r.error)}`, "sidecar_args_invalid");
  return r.data as Record<string, unknown>;
}

export function validateResult<O extends Op>(op: O, id: string, result: unknown): unknown {
  const r = OP_SCHEMAS[op].result.safeParse(result);
  if (!r.success) {
    throw new SidecarError(`sidecar reply to ${op} (request ${id}) does not match the protocol: ${zodLine(r.error)}`, "sidecar_reply_invalid");
  }
  return r.data;
}

/** The SidecarError a remote error reply turns into: code `sidecar_<code>`, remote details kept. */
export function remoteError(op: string, id: string, e: RemoteError): SidecarError {
  return new SidecarError(`sidecar ${op} (request ${id}) failed: ${e.type}: ${e.message}`, `sidecar_${e.code}`, {
    type: e.type,
    message: e.message,
    traceback: e.traceback ?? undefined,
  });
}
