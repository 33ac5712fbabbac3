import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { splitRequests, writeBatchRequests } from "../../../src/dataset/batch/files.ts";
import { parseBatchOutput, parseOutputLines, responseText } from "../../../src/dataset/batch/output.ts";
import { buildBatchRequest, STRICT_PREFIX, strictRetry, originalId } from "../../../src/dataset/batch/request.ts";
import { BatchError } from "../../../src/errors.ts";
import { removeRoot, tempRoot } from "../helpers.ts";

const S = { model: "gpt-5.2-2025-12-11", maxOutputTokens: 2000 };

test("a batch request targets the Responses endpoint with the designed body", () => {
  const r = buildBatchRequest("val:x", 'Reply with a json object like {"a":1}', S);
  assert.deepEqual(r, {
    custom_id: "val:x",
    method: "POST",
    url: "/v1/responses",
    body: {
      model: "gpt-5.2-2025-12-11",
      input: 'Reply with a json object like {"a":1}',
      text: { format: { type: "json_object" }, verbosity: "low" },
      reasoning: { effort: "none", summary: "auto" },
      store: true,
      max_output_tokens: 2000,
    },
  });
});

test("a prompt without the word json is refused before anything is written", () => {
  assert.throws(() => buildBatchRequest("x", "Reply with an object", S), BatchError);
});

test("the retry carries the stricter instruction and maps back to the original id", () => {
  const r = strictRetry(buildBatchRequest("gen:a", "json please", S));
  assert.equal(r.custom_id, "gen:a#retry");
  assert.ok(r.body.input.startsWith(STRICT_PREFIX));
  assert.match(STRICT_PREFIX, /Return ONLY valid JSON/);
  assert.equal(originalId(r.custom_id), "gen:a");
});

test("request files split at the request and byte limits, order kept", () => {
  const lines = Array.from({ length: 10 }, (_, i) => `{"i":${i},"pad":"${"x".repeat(90)}"}`);
  assert.deepEqual(splitRequests(lines, { maxRequests: 4, maxBytes: 1e9 }).map((p) => p.length), [4, 4, 2]);
  const bySize = splitRequests(lines, { maxRequests: 1000, maxBytes: 350 });
  assert.ok(bySize.every((p) => p.join("\n").length + p.length <= 350));
  assert.deepEqual(bySize.flat(), lines);
  const dir = tempRoot("req");
  try {
    const reqs = Array.from({ length: 5 }, (_, i) => buildBatchRequest(`id${i}`, "json", S));
    const parts = writeBatchRequests(dir, "k", reqs, { maxRequests: 2, maxBytes: 1e9 });
    assert.deepEqual(parts.map((p) => p.customIds), [["id0", "id1"], ["id2", "id3"], ["id4"]]);
    assert.equal(readFileSync(parts[2].file, "utf8"), JSON.stringify(reqs[4]) + "\n");
  } finally {
    removeRoot(dir);
  }
});

test("output parsing joins on custom_id, reads output_text pieces, and reports errors and missing lines", () => {
  const ok = {
    custom_id: "a",
    response: {
      status_code: 200,
      body: { output: [{ type: "reasoning", summary: [] }, { type: "message", content: [{ type: "output_text", text: '{"x":' }, { type: "refusal" }, { type: "output_text", text: "1}" }] }] },
    },
    error: null,
  };
  const http = { custom_id: "b", response: { status_code: 500, body: { error: { message: "boom" } } }, error: null };
  const err = { custom_id: "c", response: null, error: { code: "batch_expired", message: "expired" } };
  const text = [ok, http, err].map((l) => JSON.stringify(l)).join("\n") + "\nnot json\n";
  const { lines, bad } = parseOutputLines(text);
  assert.equal(bad, 1);
  const r = parseBatchOutput(["c", "a", "b", "d"], lines);
  assert.deepEqual(r.map((x) => x.custom_id), ["c", "a", "b", "d"]);
  assert.equal(r[1].text, '{"x":1}');
  assert.match(r[0].error!, /batch_expired/);
  assert.match(r[2].error!, /HTTP 500: boom/);
  assert.match(r[3].error!, /no output line/);
  assert.equal(responseText({ output: [] }), "");
});
