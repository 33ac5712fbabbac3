/**
 * The wire contract of ./protocol.ts rendered as JSON Schema (draft 2020-12, the *input* side: a field with
 * a default is optional and carries `default`), and that rendering written out as a Python module of
 * literals, py-sidecar/sempress_sidecar/protocol_schema.py, which the sidecar validates requests against.
 * scripts/gen_protocol.ts writes the file (`make protocol`); test/rpc/protocolSchema.test.ts fails when the
 * committed file differs from `renderPythonModule()`.
 *
 * Zod has no JSON Schema for `TensorBytes` (an instanceof check); it becomes `{"x-msgpack": "bin"}`, an
 * extension keyword the Python validator reads as "msgpack bin value". Any other unrepresentable schema
 * throws, so nothing turns silently into "accept anything".
 */
import { z } from "zod";
import { ERROR_CODES, OPS, OP_SCHEMAS, PROTOCOL_VERSION, ReplySchema, RequestSchema, TensorBytes } from "./protocol.ts";

export const PYTHON_MODULE_PATH = "py-sidecar/sempress_sidecar/protocol_schema.py";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One schema as JSON Schema, without the `$schema` marker (the module states the draft once). */
export function toWireSchema(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: (ctx) => {
      if (ctx.zodSchema === TensorBytes) return { "x-msgpack": "bin" };
      throw new Error(`protocol schema at ${ctx.path.join(".") || "(root)"} has no JSON Schema: ${ctx.message}`);
    },
  }) as Record<string, Json>;
  delete out.$schema;
  return out;
}

export interface WireContract {
  protocol_version: number;
  ops: readonly string[];
  error_codes: readonly string[];
  request: Json;
  reply: Json;
  args: Record<string, Json>;
}

export function wireContract(): WireContract {
  return {
    protocol_version: PROTOCOL_VERSION,
    ops: OPS,
    error_codes: ERROR_CODES,
    request: toWireSchema(RequestSchema),
    reply: toWireSchema(ReplySchema),
    args: Object.fromEntries(OPS.map((op) => [op, toWireSchema(OP_SCHEMAS[op].args)])),
  };
}

/** A name standing for a hoisted subschema in the Python module. */
class PyName {
  constructor(readonly name: string) {}
}
type Py = null | boolean | number | string | PyName | Py[] | { [k: string]: Py };

/**
 * A value as a Python literal (JSON string escapes are valid in Python strings): a map one entry per line,
 * each entry on one line (one line per op keeps a protocol change a one-line diff here), anything else flat.
 */
export function pyLiteral(v: Py): string {
  if (v === null || typeof v !== "object" || v instanceof PyName || Array.isArray(v) || Object.keys(v).length < 2) return pyFlat(v);
  return `{\n${Object.entries(v).map(([k, x]) => `    ${JSON.stringify(k)}: ${pyFlat(x)},\n`).join("")}}`;
}

function pyFlat(v: Py): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (v instanceof PyName) return v.name;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`protocol schema holds a non-finite number: ${v}`);
    return String(v);
  }
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyFlat).join(", ")}]`;
  return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}: ${pyFlat(v[k])}`).join(", ")}}`;
}

/** Subschemas shorter than this stay inline even when repeated. */
const HOIST_MIN_CHARS = 60;

/**
 * Repeated subschemas (token-id lists, LensItem, …) become module constants `_S1…`, so the module states
 * each once. Largest first; constants count as roots, so a smaller one is found inside them too. A later
 * (smaller) constant never contains an earlier one's name, so they are emitted in reverse order of hoisting,
 * each after the ones it uses.
 */
export function hoistShared(roots: Record<string, Py>): { defs: [string, Py][]; roots: Record<string, Py> } {
  const isNode = (v: Py): v is Py[] | { [k: string]: Py } => v !== null && typeof v === "object" && !(v instanceof PyName);
  const children = (v: Py[] | { [k: string]: Py }, f: (x: Py) => Py): Py =>
    Array.isArray(v) ? v.map(f) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]));
  const all = new Map<string, Py>(Object.entries(roots));
  const hoisted: string[] = [];
  for (;;) {
    const seen = new Map<string, { n: number; v: Py }>();
    const visit = (v: Py, top: boolean): void => {
      if (!isNode(v)) return;
      const key = pyFlat(v);
      if (!top && key.length >= HOIST_MIN_CHARS) seen.set(key, { n: (seen.get(key)?.n ?? 0) + 1, v });
      children(v, (x) => (visit(x, false), x));
    };
    all.forEach((r) => visit(r, true));
    const best = [...seen].filter(([, e]) => e.n > 1).sort((x, y) => y[0].length - x[0].length)[0];
    if (!best) break;
    const name = `_S${hoisted.length + 1}`;
    const ref = new PyName(name);
    const swap = (v: Py): Py => (!isNode(v) ? v : pyFlat(v) === best[0] ? ref : children(v, swap));
    for (const [k, r] of all) all.set(k, isNode(r) ? children(r, swap) : r);
    all.set(name, best[1].v);
    hoisted.push(name);
  }
  return {
    defs: hoisted.reverse().map((n) => [n, all.get(n)!] as [string, Py]),
    roots: Object.fromEntries(Object.keys(roots).map((k) => [k, all.get(k)!])),
  };
}

export function renderPythonModule(): string {
  const c = wireContract();
  const { defs, roots } = hoistShared({ REQUEST: c.request, REPLY: c.reply, ARGS: c.args });
  return [
    `"""The sidecar wire contract as JSON Schema (draft 2020-12, request side: defaults included).`,
    ``,
    `GENERATED by scripts/gen_protocol.ts from src/rpc/protocol.ts: do not edit; run \`make protocol\`.`,
    `Only literals, so importing it runs no code; _S… are subschemas used more than once.`,
    `"""`,
    ``,
    `PROTOCOL_VERSION = ${pyLiteral(c.protocol_version)}`,
    `OPS = ${pyLiteral([...c.ops])}`,
    `ERROR_CODES = ${pyLiteral([...c.error_codes])}`,
    ``,
    ...defs.map(([name, v]) => `${name} = ${pyFlat(v)}`),
    ``,
    ...Object.entries(roots).flatMap(([name, v]) => [`${name} = ${pyLiteral(v)}`, ``]),
  ].join("\n");
}
