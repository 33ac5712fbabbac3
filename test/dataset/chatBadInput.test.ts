/**
 * A `--llm chat` build pointed at the wrong place, through the real CLI: an unreachable URL, a key the
 * server refuses, a model it does not know. Each ends with one line on stderr and a non-zero exit,
 * before the build writes anything a resume would trust, and without touching a previous build.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startChatServer } from "../peers/chatServer.ts";
import { scratchRoots, TEST_KEY } from "./helpers.ts";
import { answerCounts, chatConfigObject, cli, journals, MODEL } from "./llm/chatHelpers.ts";

const root = scratchRoots();

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One stderr line, `sempress: <code>: ...`, and exit status 2. */
function assertOneLine(res: { code: number | null; stderr: string }, code: string, re: RegExp): void {
  const lines = res.stderr.split("\n").filter((l) => l.trim());
  assert.equal(lines.length, 1, `stderr:\n${res.stderr}`);
  assert.ok(lines[0].startsWith(`sempress: ${code}: `), lines[0]);
  assert.match(lines[0], re);
  assert.equal(res.code, 2);
}

/** Nothing a resume could pick up: no step record, no ledger, no journal answer. */
function assertNothingTrusted(r: string): void {
  const logs = join(r, "data/logs");
  assert.ok(!existsSync(join(logs, "steps.json")), "steps.json written");
  assert.ok(!existsSync(join(logs, "batches.json")), "batches.json written");
  const js = journals(r);
  assert.deepEqual([...js.keys()].filter((f) => f !== "chat_preflight.jsonl"), []);
  assert.ok([...js.values()].flat().every((l) => l.t !== "answer"));
  assert.deepEqual(readdirSync(join(r, "data/validated")), []);
}

test("when the URL is unreachable then one line names it, and a --resume against the right URL asks everything", async () => {
  const r = root("chat-unreachable");
  const bad = `http://127.0.0.1:${await deadPort()}/v1`;
  const srv = await startChatServer();
  try {
    const res = await cli(r, chatConfigObject(r, srv.baseURL), ["--llm-base-url", bad]).done;
    assertOneLine(res, "chat_unreachable", new RegExp(`cannot reach the chat endpoint ${bad.replace(/[.]/g, "\\.")} \\(ECONNREFUSED\\); check --llm-base-url`));
    assertNothingTrusted(r);
    assert.equal(srv.requests.length, 0);

    const resumed = await cli(r, chatConfigObject(r, srv.baseURL), ["--resume"]).done;
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    const answered = new Set(srv.answeredIds());
    const onDisk = [...answerCounts(r).keys()];
    assert.ok(onDisk.length > 100);
    assert.ok(onDisk.every((id) => answered.has(id)), "an answer on disk that this server did not give");
  } finally {
    await srv.close();
  }
});

test("when the server refuses the key then one line says so, the key is not in it, and the previous build is untouched", async () => {
  const srv = await startChatServer({ apiKey: TEST_KEY });
  const r = root("chat-401");
  try {
    const good = await cli(r, chatConfigObject(r, srv.baseURL), [], { OPENAI_API_KEY: TEST_KEY }).done;
    assert.equal(good.code, 0, good.stderr.slice(-2000));
    const keep = ["data/logs/steps.json", "data/logs/batches.json", "data/validated/prompts.jsonl", "data/validated/report.json", "data/logs/chat_validate.p0.jsonl"];
    const before = keep.map((f) => readFileSync(join(r, f), "utf8"));

    const wrongKey = "sk-wrong-0123456789abcdefghij";
    const res = await cli(r, chatConfigObject(r, srv.baseURL), [], { OPENAI_API_KEY: wrongKey }).done;
    assertOneLine(res, "chat_unauthorized", /refused the request: HTTP 401 \(invalid_api_key: Incorrect API key provided\.\); check OPENAI_API_KEY/);
    assert.ok(!res.stderr.includes(wrongKey) && !res.stderr.includes(TEST_KEY));
    assert.deepEqual(keep.map((f) => readFileSync(join(r, f), "utf8")), before);

    const noKey = await cli(r, chatConfigObject(r, srv.baseURL)).done;
    assertOneLine(noKey, "chat_unauthorized", /OPENAI_API_KEY is not set and this server wants one/);
  } finally {
    await srv.close();
  }
});

test("when the server does not know the model then one line names the model and the server's reason", async () => {
  const srv = await startChatServer({ models: [MODEL] });
  const r = root("chat-404");
  try {
    const res = await cli(r, chatConfigObject(r, srv.baseURL), ["--llm-model", "no-such-model"]).done;
    assertOneLine(res, "chat_model_unknown", /HTTP 404 for model "no-such-model" \(model_not_found: The model `no-such-model` does not exist\.\); check --llm-model/);
    assertNothingTrusted(r);
    assert.deepEqual(srv.requests.map((q) => q.outcome), ["404"], "one request, no retries");
  } finally {
    await srv.close();
  }
});
