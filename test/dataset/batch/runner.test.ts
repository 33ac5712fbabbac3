import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Ledger } from "../../../src/dataset/batch/ledger.ts";
import { buildBatchRequest, STRICT_PREFIX } from "../../../src/dataset/batch/request.ts";
import { runJob } from "../../../src/dataset/batch/runner.ts";
import { OpenAIBatchProvider } from "../../../src/dataset/llm/openai.ts";
import { BatchError } from "../../../src/errors.ts";
import { ValidationReply } from "../../../src/schemas.ts";
import { startOpenAIServer, type BatchBehaviour, type Reply, type RequestLine } from "../../peers/openaiServer.ts";
import { readLines, removeRoot, tempRoot, TEST_KEY } from "../helpers.ts";

const S = { model: "gpt-5.2-2025-12-11", maxOutputTokens: 2000 };
const GOOD = JSON.stringify({
  is_one_word_answer_enforced: true,
  best_one_word_answer: "x",
  top3_one_word_answers: ["x"],
  is_X_best: true,
  ambiguity_score: 1,
  leaks_answer: false,
  naturalness_score: 9,
  comments: "",
});

/** First reply per kind; the stricter retry gets `retry` (default: a good reply). */
const FIRST: Record<string, Reply> = {
  ok: { text: GOOD },
  prose: { text: "Sure! The best answer is clearly x, and it is not ambiguous." },
  empty: { text: "" },
  trunc: { text: '{"is_one_word_answer_enforced": true, "best_one_wo' },
  shape: { text: '{"answer": "x"}' },
  errline: { error: { code: "server_error", message: "internal failure" } },
  http: { http: 500, message: "overloaded" },
};
const RETRY: Record<string, Reply> = { empty: { text: "   " }, trunc: { text: '{"is_X_best": tr' } };

function responder(req: RequestLine): Reply {
  const kind = req.custom_id.replace(/^val:/, "").replace(/#retry$/, "");
  if (req.custom_id.endsWith("#retry")) {
    assert.ok(req.body.input.startsWith(STRICT_PREFIX), "retry carries the strict instruction");
    return RETRY[kind] ?? { text: GOOD };
  }
  return FIRST[kind];
}

async function setup(behaviour?: (i: number) => BatchBehaviour) {
  const srv = await startOpenAIServer({ responder, behaviour: behaviour ? (i) => behaviour(i) : undefined });
  const dir = tempRoot("runner");
  const ledger = new Ledger(join(dir, "batches.json"));
  const provider = new OpenAIBatchProvider({ baseURL: srv.baseURL, apiKey: TEST_KEY }, { pollIntervalMs: 5, pollMaxIntervalMs: 20 });
  const ctx = { provider, ledger, logsDir: dir };
  const requests = Object.keys(FIRST).map((k) => buildBatchRequest(`val:${k}`, "Reply in json", S));
  return { srv, dir, ledger, ctx, requests, done: async () => (await srv.close(), removeRoot(dir)) };
}

test("prose, wrong shape and error lines are re-queued once with the strict prompt; empty and truncated JSON are dropped and counted", async () => {
  const t = await setup();
  try {
    const res = await runJob(t.ctx, "validate", t.requests, ValidationReply);
    assert.deepEqual([...res.ok.keys()], ["val:ok", "val:prose", "val:shape", "val:errline", "val:http"]);
    assert.deepEqual(
      res.dropped.map((d) => [d.custom_id, d.reason]),
      [
        ["val:empty", "empty"],
        ["val:trunc", "not_json"],
      ],
    );
    assert.equal(res.counts.retried, 6);
    assert.equal(res.counts.ok_retry, 4);
    assert.equal(res.counts.dropped, 2);
    assert.equal(t.srv.submissions.length, 2, "one batch plus one retry batch");
    assert.equal(t.srv.submissions[1].n, 6);
    // Nothing lost: every request and every response line is on disk, and every outcome is logged.
    assert.equal(readLines(join(t.dir, "requests_validate.p0.jsonl")).length, 7);
    assert.equal(readLines(join(t.dir, "responses_validate.p0.jsonl")).length, 7);
    assert.equal(readLines(join(t.dir, "responses_validate.retry.p0.jsonl")).length, 6);
    const log = readLines(join(t.dir, "replies_validate.jsonl")) as { custom_id: string; status: string; action: string | null }[];
    assert.deepEqual(
      log.filter((l) => l.action === "requeued").map((l) => [l.custom_id, l.status]),
      [
        ["val:prose", "not_json"],
        ["val:empty", "empty"],
        ["val:trunc", "not_json"],
        ["val:shape", "schema_miss"],
        ["val:errline", "api_error"],
        ["val:http", "api_error"],
      ],
    );
    assert.equal(log.filter((l) => l.action === "dropped").length, 2);
    // The key travels only in the Authorization header, never into a log file.
    assert.ok(t.srv.authHeaders.every((h) => h === `Bearer ${TEST_KEY}`));
    for (const f of readdirSync(t.dir)) assert.ok(!readFileSync(join(t.dir, f), "utf8").includes(TEST_KEY), f);
  } finally {
    await t.done();
  }
});

test("an expired batch keeps its finished replies and re-queues the unfinished ones", async () => {
  const t = await setup((i) => (i === 0 ? { expireAfter: 1 } : {}));
  try {
    const reqs = t.requests.filter((r) => r.custom_id === "val:ok" || r.custom_id === "val:shape" || r.custom_id === "val:prose");
    const res = await runJob(t.ctx, "validate", reqs, ValidationReply);
    assert.equal(res.ok.size, 3);
    assert.equal(res.counts.ok_first, 1);
    assert.equal(t.ledger.get("validate.p0")?.status, "expired");
    const errs = readLines(join(t.dir, "responses_validate.p0.jsonl")) as { error: { code: string } | null }[];
    assert.equal(errs.filter((l) => l.error?.code === "batch_expired").length, 2);
  } finally {
    await t.done();
  }
});

test("a failed batch stops with BatchError, is recorded, and a rerun submits it afresh", async () => {
  const t = await setup((i) => (i === 0 ? { fail: "line 1: bad model" } : {}));
  try {
    await assert.rejects(runJob(t.ctx, "validate", t.requests, ValidationReply), (e: unknown) => e instanceof BatchError && e.code === "batch_failed" && /bad model/.test(e.message));
    const e = t.ledger.get("validate.p0")!;
    assert.equal(e.status, "failed");
    const failedId = e.batch_id!;
    const res = await runJob(t.ctx, "validate", t.requests, ValidationReply);
    assert.equal(res.ok.size, 5);
    assert.deepEqual(t.ledger.get("validate.p0")!.previous_batch_ids, [failedId]);
    assert.equal(t.srv.submissions.length, 3, "failed batch, its replacement, the retry round");
  } finally {
    await t.done();
  }
});

test("a finished part is read back from disk on a rerun, never requested again", async () => {
  const t = await setup();
  try {
    await runJob(t.ctx, "validate", t.requests, ValidationReply);
    const before = t.srv.log.length;
    const again = await runJob({ ...t.ctx, ledger: new Ledger(join(t.dir, "batches.json")) }, "validate", t.requests, ValidationReply);
    assert.equal(t.srv.log.length, before, "no request reached the server");
    assert.equal(again.ok.size, 5);
  } finally {
    await t.done();
  }
});

test("a batch created just before a crash (uploaded, id not yet recorded) is found and adopted, not resubmitted", async () => {
  const t = await setup();
  try {
    const { makeOpenAI, uploadBatchFile, createBatch } = await import("../../../src/dataset/batch/client.ts");
    const { writeBatchRequests } = await import("../../../src/dataset/batch/files.ts");
    const reqs = t.requests.filter((r) => r.custom_id === "val:ok");
    const [part] = writeBatchRequests(t.dir, "validate", reqs);
    const client = makeOpenAI({ baseURL: t.srv.baseURL, apiKey: TEST_KEY });
    const fileId = await uploadBatchFile(client, part.file);
    t.ledger.put(part.partKey, { provider: "openai", requests_file: part.file, requests_sha256: part.sha256, n_requests: 1, input_file_id: fileId, status: "uploaded" });
    const created = await createBatch(client, fileId, { sempress_part: part.partKey });
    const res = await runJob(t.ctx, "validate", reqs, ValidationReply);
    assert.equal(res.ok.size, 1);
    assert.equal(t.srv.submissions.length, 1, "no second submission");
    assert.equal(t.ledger.get(part.partKey)?.batch_id, created.id);
  } finally {
    await t.done();
  }
});
