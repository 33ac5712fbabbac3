import { strict as assert } from "node:assert";
import { test } from "node:test";
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import { buildBatchRequest } from "../../../src/dataset/batch/request.ts";
import { backoffMs, chatBody, classify, makeChatClient, retryAfterMs, type ClassifyContext } from "../../../src/dataset/llm/chatClient.ts";

const CTX: ClassifyContext = { url: "http://127.0.0.1:9/v1", model: "m", dialect: { jsonMode: true, maxTokensParam: "max_tokens" }, reached: true, hasKey: false };
const apiError = (status: number, body: object, headers: Record<string, string> = {}) => APIError.generate(status, body, undefined, new Headers(headers));
const refused = () => new APIConnectionError({ cause: Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }) });

test("when a 429 carries Retry-After in seconds, as a date or in ms then that wait is used", () => {
  assert.equal(retryAfterMs(new Headers({ "retry-after": "3" })), 3000);
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "3" })), 250);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now), 5000);
  assert.equal(retryAfterMs(new Headers({})), null);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "soon" })), null);
  const r = classify(apiError(429, { error: { message: "slow down" } }, { "retry-after": "2" }), CTX);
  assert.deepEqual(r, { kind: "retry", status: 429, error: "HTTP 429: slow down", waitMs: 2000 });
});

test("when backing off then the wait doubles per attempt up to the cap, jittered into its upper half", () => {
  assert.equal(backoffMs(0, 100, 1000, () => 1), 100);
  assert.equal(backoffMs(3, 100, 1000, () => 1), 800);
  assert.equal(backoffMs(9, 100, 1000, () => 1), 1000);
  assert.equal(backoffMs(3, 100, 1000, () => 0), 400);
});

test("when the server fails transiently then the attempt is retried: 5xx, 408, timeouts, dropped connections", () => {
  for (const s of [500, 502, 503, 408]) assert.equal(classify(apiError(s, { error: { message: "x" } }), CTX).kind, "retry", String(s));
  assert.equal(classify(new APIConnectionTimeoutError(), CTX).kind, "retry");
  const reset = new APIConnectionError({ cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) });
  assert.deepEqual(classify(reset, CTX), { kind: "retry", status: null, error: "connection lost (UND_ERR_SOCKET)", waitMs: null });
  assert.equal(classify(new SyntaxError("Unexpected token <"), CTX).kind, "retry");
});

test("when the URL, key or model is wrong then the outcome is fatal with one line that says which", () => {
  const unreachable = classify(refused(), { ...CTX, reached: false });
  assert.equal(unreachable.kind, "fatal");
  assert.match(unreachable.kind === "fatal" ? unreachable.error.message : "", /^cannot reach the chat endpoint http:\/\/127\.0\.0\.1:9\/v1 \(ECONNREFUSED\); check --llm-base-url/);
  // Refused after the server has answered before: an outage, worth retrying.
  assert.equal(classify(refused(), CTX).kind, "retry");
  const auth = classify(apiError(401, { error: { message: "Incorrect API key provided.", code: "invalid_api_key" } }), CTX);
  assert.ok(auth.kind === "fatal" && auth.error.code === "chat_unauthorized" && /HTTP 401 \(invalid_api_key: Incorrect API key provided\.\); OPENAI_API_KEY is not set/.test(auth.error.message));
  const model = classify(apiError(404, { error: { message: "The model `m` does not exist.", code: "model_not_found" } }), CTX);
  assert.ok(model.kind === "fatal" && model.error.code === "chat_model_unknown" && /model "m".*model_not_found.*--llm-model/.test(model.error.message));
  for (const o of [unreachable, auth, model]) assert.ok(o.kind === "fatal" && !o.error.message.includes("\n"));
});

test("when a 400 names response_format or max_tokens then the dialect narrows; any other 400 fails that request only", () => {
  assert.deepEqual(classify(apiError(400, { error: { message: "response_format is not supported" } }), CTX), {
    kind: "dialect",
    status: 400,
    error: "HTTP 400: response_format is not supported",
    change: { jsonMode: false },
  });
  const mt = classify(apiError(400, { error: { message: "Unsupported parameter: 'max_tokens'" } }), CTX);
  assert.ok(mt.kind === "dialect" && mt.change.maxTokensParam === "max_completion_tokens");
  // Already without JSON mode: the same message is no longer a dialect question.
  assert.equal(classify(apiError(400, { error: { message: "response_format is not supported" } }), { ...CTX, dialect: { ...CTX.dialect, jsonMode: false } }).kind, "failed");
  assert.deepEqual(classify(apiError(400, { error: { message: "prompt too long" } }), CTX), { kind: "failed", status: 400, error: "HTTP 400: prompt too long" });
});

test("when an error is not the SDK's then it is thrown, not retried", () => {
  assert.throws(() => classify(new TypeError("Cannot convert argument to a ByteString"), CTX), TypeError);
});

test("when the request is built then it carries the prompt, model and output cap in the server's dialect", () => {
  const req = buildBatchRequest("val:x", "Return json please", { model: "m", maxOutputTokens: 123 });
  assert.deepEqual(chatBody(req, { jsonMode: true, maxTokensParam: "max_tokens" }), {
    model: "m",
    messages: [{ role: "user", content: "Return json please" }],
    max_tokens: 123,
    response_format: { type: "json_object" },
  });
  assert.deepEqual(chatBody(req, { jsonMode: false, maxTokensParam: "max_completion_tokens" }), { model: "m", messages: [{ role: "user", content: "Return json please" }], max_completion_tokens: 123 });
});

test("when the base URL is not http(s) or carries credentials then it is refused without echoing the password", () => {
  assert.throws(() => makeChatClient({ baseURL: "ftp://host/v1", model: "m" }), (e: Error & { code?: string }) => e.code === "chat_bad_url");
  assert.throws(
    () => makeChatClient({ baseURL: "http://me:hunter2@host:8000/v1", model: "m" }),
    (e: Error & { code?: string }) => e.code === "chat_bad_url" && !e.message.includes("hunter2") && e.message.includes("http://host:8000/v1"),
  );
});
