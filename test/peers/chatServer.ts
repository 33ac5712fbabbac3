/**
 * A local OpenAI-compatible Chat Completions server (node:http, loopback only) for the chat
 * provider's tests: POST /v1/chat/completions answered by the same deterministic responder the
 * Batch API peer uses (fakeModel: plausible generation items, hash-ruled validation verdicts), keyed by
 * the X-Client-Request-Id header the provider sends. Faults are injected per request by a hook: 429
 * with Retry-After, 500, a reply slower than the client's timeout, prose instead of JSON, a dropped
 * connection. It can also want a key, know only some models, and reject `response_format`.
 * Every request is logged with its custom id, content hash, arrival time and what it got.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fakeModel } from "./fakeModel.ts";
import type { Responder } from "./openaiServer.ts";

export type Fault = { kind: "429"; retryAfterS: number } | { kind: "500" } | { kind: "slow"; ms: number } | { kind: "text" } | { kind: "drop" };

export interface FaultContext {
  /** 0-based index of this request among all chat requests the server got. */
  n: number;
  customId: string;
  /** How many earlier requests carried this custom id. */
  seen: number;
}

export interface ChatServerOptions {
  responder?: Responder;
  fault?: (c: FaultContext) => Fault | null;
  /** Model names the server knows; any other gets 404 model_not_found. Default: any name. */
  models?: string[];
  /** The id reported in `model` of every reply. Default: the requested name + "-served". */
  servedModel?: string;
  /** When set, any other bearer token gets 401. */
  apiKey?: string;
  /** false: a request with response_format gets 400 (servers without JSON mode). Default true. */
  jsonMode?: boolean;
  /** "max_completion_tokens": a request with max_tokens gets 400, as newer OpenAI models answer. */
  maxTokensParam?: "max_tokens" | "max_completion_tokens";
  /** Called before answering; a test can hold replies (e.g. to kill the client mid-build). */
  beforeReply?: (c: FaultContext) => Promise<void> | void;
}

/** lost: the client was gone (killed, or timed out) by the time the reply was ready. */
export type Outcome = "pending" | "answered" | "lost" | "429" | "500" | "slow" | "text" | "drop" | "401" | "404" | "400";

export interface ChatRequestRecord {
  customId: string;
  /** sha256 of model + messages: what the request asks, whatever the id says. */
  contentHash: string;
  at: number;
  outcome: Outcome;
  responseFormat: boolean;
  maxTokensParam: string | null;
  /** For 429s: the Retry-After sent, in seconds. */
  retryAfterS?: number;
}

export interface ChatServer {
  baseURL: string;
  requests: ChatRequestRecord[];
  /** Custom ids answered with a 200 (any content), with multiplicity. */
  answeredIds(): string[];
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string };
  max_tokens?: number;
  max_completion_tokens?: number;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

const apiError = (message: string, code: string | null, param: string | null = null) => ({ error: { message, type: "invalid_request_error", param, code } });

/** fakeModel, plus a reply to anything else (the provider's preflight). */
const defaultResponder: Responder = (req) => (req.custom_id.startsWith("gen:") || req.custom_id.startsWith("val:") ? fakeModel(req) : { text: '{"ok": true}' });

export async function startChatServer(opts: ChatServerOptions = {}): Promise<ChatServer> {
  const responder = opts.responder ?? defaultResponder;
  const requests: ChatRequestRecord[] = [];
  const seen = new Map<string, number>();
  let seq = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (req.method !== "POST" || path !== "/v1/chat/completions") return send(res, 404, apiError(`no route ${req.method} ${path}`, null));
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatBody;
    const content = body.messages.map((m) => m.content).join("\n");
    const contentHash = createHash("sha256").update(JSON.stringify([body.model, body.messages])).digest("hex");
    const header = req.headers["x-client-request-id"];
    const customId = typeof header === "string" ? decodeURIComponent(header) : contentHash;
    const ctx: FaultContext = { n: seq++, customId, seen: seen.get(customId) ?? 0 };
    seen.set(customId, ctx.seen + 1);
    const rec: ChatRequestRecord = {
      customId,
      contentHash,
      at: Date.now(),
      outcome: "pending",
      responseFormat: !!body.response_format,
      maxTokensParam: body.max_tokens !== undefined ? "max_tokens" : body.max_completion_tokens !== undefined ? "max_completion_tokens" : null,
    };
    requests.push(rec);
    const fail = (outcome: Outcome, status: number, payload: unknown, headers?: Record<string, string>) => {
      rec.outcome = outcome;
      send(res, status, payload, headers);
    };
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return fail("401", 401, apiError("Incorrect API key provided.", "invalid_api_key"));
    }
    if (opts.models && !opts.models.includes(body.model)) return fail("404", 404, apiError(`The model \`${body.model}\` does not exist.`, "model_not_found", "model"));
    if (opts.jsonMode === false && body.response_format) return fail("400", 400, apiError("response_format is not supported by this server", null, "response_format"));
    if (opts.maxTokensParam === "max_completion_tokens" && body.max_tokens !== undefined) {
      return fail("400", 400, apiError("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "unsupported_parameter", "max_tokens"));
    }
    await opts.beforeReply?.(ctx);
    const fault = opts.fault?.(ctx) ?? null;
    if (fault?.kind === "429") {
      rec.retryAfterS = fault.retryAfterS;
      return fail("429", 429, apiError("Rate limit reached; slow down.", "rate_limit_exceeded"), { "retry-after": String(fault.retryAfterS) });
    }
    if (fault?.kind === "500") return fail("500", 500, { error: { message: "The server had an error while processing your request.", type: "server_error" } });
    if (fault?.kind === "drop") {
      rec.outcome = "drop";
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "slow") {
      // Replies after `ms` unless the client gives up first (its timeout closes the connection): then nobody gets it.
      const gaveUp = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), fault.ms);
        t.unref();
        res.once("close", () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (gaveUp || res.destroyed) {
        rec.outcome = "slow";
        return;
      }
    }
    const reply = responder({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { input: content, model: body.model } });
    if ("http" in reply) return fail("500", reply.http, { error: { message: reply.message, type: "server_error" } });
    if ("error" in reply) return fail("400", 400, apiError(reply.error.message, reply.error.code));
    const text = fault?.kind === "text" ? "Sure! Here are the answers you asked for, one per line." : reply.text;
    if (res.destroyed) {
      rec.outcome = "lost";
      return;
    }
    rec.outcome = fault?.kind === "text" ? "text" : "answered";
    send(res, 200, {
      id: `chatcmpl-${ctx.n}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: opts.servedModel ?? `${body.model}-served`,
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
      usage: { prompt_tokens: Math.ceil(content.length / 4), completion_tokens: Math.ceil(text.length / 4), total_tokens: 0 },
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { error: { message: String(e), type: "server_error" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    answeredIds: () => requests.filter((r) => r.outcome === "answered" || r.outcome === "text").map((r) => r.customId),
    async waitFor(pred, timeoutMs = 60_000) {
      const t0 = Date.now();
      while (!pred()) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`chat server: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
