/**
 * One Chat Completions call through the official SDK, and what a failed one means. The SDK's own
 * retries are off: the provider retries itself so every attempt lands in the journal and a 429's
 * Retry-After holds back every worker, not just the one that got it. Servers differ in what they
 * accept (`response_format`, `max_tokens` vs `max_completion_tokens`); the dialect records what this
 * one took, learnt from a 400 that names the parameter.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { ConfigError } from "../../errors.ts";
import type { BatchRequestLine } from "../batch/request.ts";
import { stripCredentials } from "./openai.ts";

export interface ChatEndpoint {
  /** null: OPENAI_BASE_URL, else the SDK's default (api.openai.com). */
  baseURL: string | null;
  model: string;
  /** Absent for local servers that take no key: then no Authorization header is sent. */
  apiKey?: string;
}

/** What this server accepts; starts optimistic (JSON mode, max_tokens) and only ever narrows. */
export interface Dialect {
  jsonMode: boolean;
  maxTokensParam: "max_tokens" | "max_completion_tokens";
}

/** Why a base URL cannot be used, or null. fetch refuses user:password@ URLs, and they would end up in logs. */
function badURL(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `"${s}" is not a URL`;
  }
  if (!/^https?:$/.test(u.protocol)) return `"${s}" is not an http(s) URL`;
  if (u.username || u.password) return `${stripCredentials(s)} must not carry credentials (user:password@); put the key in OPENAI_API_KEY`;
  return null;
}

export function makeChatClient(e: ChatEndpoint): OpenAI {
  const apiKey = e.apiKey ?? process.env.OPENAI_API_KEY;
  const baseURL = e.baseURL ?? process.env.OPENAI_BASE_URL;
  const bad = baseURL ? badURL(baseURL) : null;
  if (bad) throw new ConfigError(`chat endpoint ${bad} (llm.baseURL, --llm-base-url or OPENAI_BASE_URL)`, "chat_bad_url");
  return new OpenAI({
    // The SDK insists on a key; a keyless local server gets a placeholder that is never sent.
    apiKey: apiKey || "unused",
    ...(apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    baseURL: baseURL ?? undefined,
    maxRetries: 0,
  });
}

/** The batch request line as a chat request: its prompt as the one user message, same model and output cap. */
export function chatBody(req: BatchRequestLine, d: Dialect): ChatCompletionCreateParamsNonStreaming {
  const cap = d.maxTokensParam === "max_tokens" ? { max_tokens: req.body.max_output_tokens } : { max_completion_tokens: req.body.max_output_tokens };
  return {
    model: req.body.model,
    messages: [{ role: "user", content: req.body.input }],
    ...cap,
    ...(d.jsonMode ? { response_format: { type: "json_object" as const } } : {}),
  };
}

/** Milliseconds a 429/503 asks us to wait: retry-after-ms, else Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const ra = headers?.get("retry-after");
  if (!ra) return null;
  const s = Number(ra);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Exponential backoff with jitter: base·2^attempt, capped, then scaled into [½, 1] of that. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, rand = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(cap * (0.5 + rand() * 0.5));
}

export type Outcome =
  /** Transient (429, 5xx, timeout, dropped connection): try again after waitMs (null: backoff). */
  | { kind: "retry"; status: number | null; error: string; waitMs: number | null }
  /** The server rejected a parameter the dialect can drop; retry at once without it. */
  | { kind: "dialect"; status: number; error: string; change: Partial<Dialect> }
  /** This request will not get an answer however often it is asked (e.g. a 400 on its content). */
  | { kind: "failed"; status: number | null; error: string }
  /** Nothing will: wrong URL, key or model. The build stops with this one line. */
  | { kind: "fatal"; status: number | null; error: ConfigError };

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ERR_INVALID_URL"]);

/** The errno-style code somewhere down an error's cause chain (fetch wraps the socket error). */
function causeCode(e: unknown): string | null {
  for (let c: unknown = e, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && code) return code;
  }
  return null;
}

function apiMessage(e: APIError): string {
  const body = e.error as { message?: unknown; code?: unknown } | undefined;
  const msg = typeof body?.message === "string" ? body.message : e.message;
  const code = typeof body?.code === "string" ? body.code : e.code;
  return `${code ? `${code}: ` : ""}${msg}`.replace(/\s+/g, " ").trim();
}

export interface ClassifyContext {
  url: string;
  model: string;
  dialect: Dialect;
  /** True once the server has answered anything: a refused connection after that is an outage, not a typo. */
  reached: boolean;
  hasKey: boolean;
}

export function classify(e: unknown, c: ClassifyContext): Outcome {
  if (e instanceof APIConnectionTimeoutError) return { kind: "retry", status: null, error: "timed out waiting for the reply", waitMs: null };
  if (e instanceof APIConnectionError) {
    const code = causeCode(e.cause) ?? "connection error";
    if (!c.reached && UNREACHABLE.has(code)) {
      return { kind: "fatal", status: null, error: new ConfigError(`cannot reach the chat endpoint ${c.url} (${code}); check --llm-base-url or OPENAI_BASE_URL`, "chat_unreachable") };
    }
    return { kind: "retry", status: null, error: `connection lost (${code})`, waitMs: null };
  }
  // A reply body that is not JSON at all (a proxy's error page): the server is there but not well.
  if (e instanceof SyntaxError) return { kind: "retry", status: null, error: `reply body is not JSON (${e.message})`, waitMs: null };
  // Anything else that is not the SDK's is a bug on this side: retrying would only repeat it.
  if (!(e instanceof APIError) || e.status === undefined) throw e;
  const status = e.status;
  const msg = apiMessage(e);
  if (status === 401 || status === 403) {
    const hint = c.hasKey ? "check OPENAI_API_KEY for this server" : "OPENAI_API_KEY is not set and this server wants one";
    return { kind: "fatal", status, error: new ConfigError(`the chat endpoint ${c.url} refused the request: HTTP ${status} (${msg}); ${hint}`, "chat_unauthorized") };
  }
  if (status === 404) {
    return {
      kind: "fatal",
      status,
      error: new ConfigError(`the chat endpoint ${c.url} answered HTTP 404 for model "${c.model}" (${msg}); check --llm-model and --llm-base-url`, "chat_model_unknown"),
    };
  }
  if (status === 429 || status === 408 || status === 409 || status >= 500) return { kind: "retry", status, error: `HTTP ${status}: ${msg}`, waitMs: retryAfterMs(e.headers) };
  if (status === 400 || status === 422) {
    if (c.dialect.jsonMode && /response_format|json_object|json mode/i.test(msg)) return { kind: "dialect", status, error: `HTTP ${status}: ${msg}`, change: { jsonMode: false } };
    if (c.dialect.maxTokensParam === "max_tokens" && /max_tokens/.test(msg)) return { kind: "dialect", status, error: `HTTP ${status}: ${msg}`, change: { maxTokensParam: "max_completion_tokens" } };
  }
  return { kind: "failed", status, error: `HTTP ${status}: ${msg}` };
}
