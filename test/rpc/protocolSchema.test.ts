/**
 * One wire contract: the sidecar validates against JSON Schema generated from the zod schemas. These tests
 * fail when the committed Python module is stale, and when zod and the Python validator disagree on args.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { OP_SCHEMAS, type Op } from "../../src/rpc/protocol.ts";
import { PYTHON_MODULE_PATH, pyLiteral, renderPythonModule, toWireSchema } from "../../src/rpc/protocolSchema.ts";
import { VENV_PYTHON, needVenv } from "../fixtures/requirements.ts";

test("the committed py-sidecar/sempress_sidecar/protocol_schema.py is what protocol.ts generates", () => {
  const committed = readFileSync(PYTHON_MODULE_PATH, "utf8");
  assert.ok(committed === renderPythonModule(), `${PYTHON_MODULE_PATH} is stale: run \`make protocol\` and commit it`);
});

test("a schema with no JSON Schema form stops the generator, naming the field", () => {
  assert.throws(() => toWireSchema(z.object({ when: z.date() })), /properties\.when has no JSON Schema/);
});

test("Python literals: None/True/False and escapes; a map one entry a line", () => {
  assert.equal(pyLiteral({ a: [null, true, false, 1.5, 'q"\n'] }), '{"a": [None, True, False, 1.5, "q\\"\\n"]}');
  assert.equal(pyLiteral({ a: 1, b: { c: "d", e: [] } }), '{\n    "a": 1,\n    "b": {"c": "d", "e": []},\n}');
});

/** Args both sides must judge alike: [op, args]. */
const SAMPLES: [Op, Record<string, unknown>][] = [
  ["hello", {}],
  ["hello", { stray: 1 }],
  ["tokenize", { texts: ["a", "b"] }],
  ["tokenize", { texts: ["a", 3] }],
  ["tokenize", {}],
  ["decode", { ids: [[1, 2]], skip_special_tokens: false }],
  ["decode", { ids: [[1, 2.5]] }],
  ["chat_template", { texts: ["x"] }],
  ["chat_template", { texts: ["x"], system: "be brief" }],
  ["chat_template", { texts: ["x"], system: 3 }],
  ["score", { items: [{ prefix: [1, 2], continuations: [[3], [4, 5]] }] }],
  ["score", { items: [{ prefix: [], continuations: [[3]] }] }],
  ["score", { items: [{ prefix: [1], continuations: [[]] }] }],
  ["generate", { prompts: [[1]], max_new_tokens: 3, do_sample: true, temperature: 0.7, top_p: 0.9, n: 2, seeds: [5] }],
  ["generate", { prompts: [[1]], max_new_tokens: 3, do_sample: false }],
  ["generate", { prompts: [[1]], max_new_tokens: 0, do_sample: false }],
  ["generate", { prompts: [[1]], max_new_tokens: 1, do_sample: false, top_p: 0 }],
  ["generate", { prompts: [[1]], max_new_tokens: 1, do_sample: false, top_p: 1.01 }],
  ["generate", { prompts: [[1]], max_new_tokens: 1, do_sample: false, n: 1.5 }],
  ["trace", { sequences: [[1, 2]] }],
  ["trace", { sequences: [[1, 2]], mode: "full" }],
  ["trace", { sequences: [[1, 2]], mode: "half" }],
  ["logit_lens", { items: [{ ids: [1, 2], token_ids: [3] }] }],
  ["decompose", { items: [{ ids: [1, 2], position: 0, token_ids: [] }] }],
  ["decompose", { items: [{ ids: [1], token_ids: [3], position: "last" }] }],
  ["patch", { items: [{ source: [1], target: [2], continuations: [[3]] }] }],
  ["patch", { items: [{ source: [1], target: [2], continuations: [[3]], layers: [0, 2] }], sites: ["attn"] }],
  ["patch", { items: [], sites: ["mlp"] }],
  ["set_seed", { seed: 7 }],
  ["set_seed", { seed: "7" }],
  ["echo", {}],
  ["shutdown", {}],
];

/** Python's parsed args have `None` where zod leaves an optional field out: compare without nulls. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([, x]) => x != null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}

const PY = `
import json, sys
from sempress_sidecar.protocol import ARG_PARSERS, BadArgs
for line in sys.stdin:
    op, args = json.loads(line)
    try:
        print(json.dumps({"ok": True, "data": ARG_PARSERS[op](args)}))
    except BadArgs as e:
        print(json.dumps({"ok": False, "error": str(e)}))
`;

test("zod and the sidecar's generated validator accept, reject and fill defaults alike", { skip: needVenv() }, () => {
  const r = spawnSync(VENV_PYTHON, ["-c", PY], {
    input: SAMPLES.map((s) => JSON.stringify(s)).join("\n"),
    env: { ...process.env, PYTHONPATH: "py-sidecar" },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const py = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ok: boolean; data?: unknown; error?: string });
  assert.equal(py.length, SAMPLES.length);
  SAMPLES.forEach(([op, args], i) => {
    const ts = OP_SCHEMAS[op].args.safeParse(args);
    const what = `${op} ${JSON.stringify(args)}`;
    assert.equal(py[i].ok, ts.success, `${what}: zod ${ts.success ? "accepts" : "rejects"}, Python ${py[i].ok ? "accepts" : `rejects (${py[i].error})`}`);
    if (ts.success) assert.deepEqual(dropNulls(py[i].data), dropNulls(ts.data), what);
    else assert.match(py[i].error!, /^args[.[]/, `${what}: the Python error names the field`);
  });
});
