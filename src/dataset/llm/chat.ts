/**
 * The chat provider: any OpenAI-compatible Chat Completions endpoint (vLLM, Ollama, llama.cpp's
 * server, hosted routers) answers the request lines the batch path would upload, one HTTP call per
 * request, `concurrency` at a time. JSON mode is asked for where the server takes it; where it does
 * not, the runner's strict "Return ONLY valid JSON" re-ask catches prose replies as it does for
 * batches. Every attempt and every answer is in data/logs/chat_{part}.jsonl as it happens
 * (chatJournal.ts); a rerun with --resume asks only what has no answer there.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type OpenAI from "openai";
import { APIError } from "openai";
import type { Config } from "../../config.ts";
import { BatchError, ConfigError } from "../../errors.ts";
import { log } from "../../log.ts";
import { Progress } from "../../util/progress.ts";
import type { RequestPart } from "../batch/files.ts";
import { Ledger } from "../batch/ledger.ts";
import type { OutputLine } from "../batch/output.ts";
import { buildBatchRequest, type BatchRequestLine } from "../batch/request.ts";
import { backoffMs, chatBody, classify, makeChatClient, type ChatEndpoint, type Dialect, type Outcome } from "./chatClient.ts";
import { ChatJournal, Completion, journalAnswers, requestSha, type AnswerLine } from "./chatJournal.ts";
import { answerLine, failureLine } from "./chatOutput.ts";
import { stripCredentials } from "./openai.ts";
import { Gate, runPool } from "./pool.ts";
import type { BatchProvider, LlmProvenance, PartResult } from "./provider.ts";

export interface ChatProviderOptions {
  endpoint: ChatEndpoint;
  chat: Config["llm"]["chat"];
  /** data/logs: the journals live beside the batch path's request and response files. */
  logsDir: string;
  /** data/logs/batches.json, read for provenance (which parts this build asked). */
  ledgerFile: string;
}

/** Custom ids carry non-ASCII targets (e.g. "złoty"); a header value must be ASCII. */
export function headerId(customId: string): string {
  return encodeURIComponent(customId);
}

type Asked = { answer: AnswerLine } | { failure: { status: number | null; error: string } };

/** Small enough to cost nothing; mentions JSON so a server that checks for it takes JSON mode. */
const PREFLIGHT_PROMPT = 'Reply with the JSON object {"ok": true} and nothing else.';
/** A server that cannot answer this in two minutes, three times over, is not one to build a dataset on. */
const PREFLIGHT = { maxRetries: 2, timeoutMs: 120_000 };

export class ChatProvider implements BatchProvider {
  readonly name = "chat";
  private readonly client: OpenAI;
  /** Base URL without credentials: the only form that reaches a message, a log line or a file. */
  readonly url: string;
  private dialect: Dialect = { jsonMode: true, maxTokensParam: "max_tokens" };
  private reached = false;
  private readonly gate = new Gate();
  private ready?: Promise<void>;

  constructor(private readonly o: ChatProviderOptions) {
    this.client = makeChatClient(o.endpoint);
    this.url = stripCredentials(this.client.baseURL);
  }

  provenance(): LlmProvenance {
    return {
      provider: this.name,
      model: this.o.endpoint.model,
      base_url: this.url,
      server_model: this.serverModels(),
      replay_dir: null,
      demo: false,
      validation_responder: null,
    };
  }

  /** Distinct `model` ids in the answers of every part this build asked (ledger entries of this provider). */
  private serverModels(): string | null {
    const ids = new Set<string>();
    for (const e of new Ledger(this.o.ledgerFile).all()) {
      if (e.provider !== this.name) continue;
      for (const a of journalAnswers(this.journalFile(e.part_key))) ids.add(a.completion.model);
    }
    return ids.size ? [...ids].sort().join(", ") : null;
  }

  private journalFile(partKey: string): string {
    return join(this.o.logsDir, `chat_${partKey}.jsonl`);
  }

  /**
   * One minimal request before the build writes anything: a wrong URL, key or model stops here with
   * one line, and the server's dialect (JSON mode, output-cap parameter) is settled once.
   */
  preflight(): Promise<void> {
    this.ready ??= this.check();
    return this.ready;
  }

  private async check(): Promise<void> {
    const journal = new ChatJournal(join(this.o.logsDir, "chat_preflight.jsonl"));
    try {
      const req = buildBatchRequest("preflight", PREFLIGHT_PROMPT, { model: this.o.endpoint.model, maxOutputTokens: 32 });
      const r = await this.ask(req, requestSha(req), journal, undefined, { maxRetries: PREFLIGHT.maxRetries, timeoutMs: Math.min(PREFLIGHT.timeoutMs, this.o.chat.timeoutMs) });
      if ("failure" in r) {
        throw new ConfigError(`the chat endpoint ${this.url} rejected a minimal request for model "${this.o.endpoint.model}" (${r.failure.error})`, "chat_rejected");
      }
      log().info({ url: this.url, model: this.o.endpoint.model, server_model: r.answer.completion.model, dialect: this.dialect }, `chat endpoint ready (${r.answer.completion.model})`);
    } finally {
      journal.close();
    }
  }

  async runPart(part: RequestPart, requests: readonly BatchRequestLine[], ledger: Ledger): Promise<PartResult> {
    await this.preflight();
    const file = this.journalFile(part.partKey);
    const base = { provider: this.name, requests_file: part.file, requests_sha256: part.sha256, n_requests: part.n };
    // No entry of ours in the ledger: a fresh build (the old ledger was moved aside), so old answers are not ours.
    if (ledger.get(part.partKey)?.provider !== this.name) ChatJournal.startFresh(file);
    ledger.put(part.partKey, { ...base, batch_id: `chat:${part.partKey}`, status: "in_progress" });
    const journal = new ChatJournal(file);
    const sha = new Map(requests.map((r) => [r.custom_id, requestSha(r)]));
    const todo = requests.filter((r) => !journal.answer(r, sha.get(r.custom_id)!));
    if (todo.length < requests.length) {
      log().info({ part: part.partKey, recorded: requests.length - todo.length, todo: todo.length }, `${part.partKey}: ${requests.length - todo.length} answers on disk kept; asking the other ${todo.length}`);
    }
    const failed = new Map<string, OutputLine>();
    const progress = new Progress(`chat ${part.partKey}`, requests.length, requests.length - todo.length);
    try {
      await runPool(todo, this.o.chat.concurrency, async (r, signal) => {
        const res = await this.ask(r, sha.get(r.custom_id)!, journal, signal);
        if ("failure" in res) failed.set(r.custom_id, failureLine(r.custom_id, res.failure.status, res.failure.error));
        progress.tick();
      });
    } finally {
      progress.stop();
      journal.close();
    }
    const lines = requests.map((r) => {
      const a = journal.answer(r, sha.get(r.custom_id)!);
      return a ? answerLine(a) : failed.get(r.custom_id)!;
    });
    ledger.put(part.partKey, { ...base, status: "completed", request_counts: { total: part.n, completed: part.n - failed.size, failed: failed.size } });
    return { lines, status: "completed" };
  }

  /** Asks one request until it has an answer or a definite refusal; throws when the build must stop. */
  private async ask(req: BatchRequestLine, sha: string, journal: ChatJournal, signal: AbortSignal | undefined, limits: { maxRetries: number; timeoutMs: number } = this.o.chat): Promise<Asked> {
    const id = req.custom_id;
    for (let attempt = 0, retries = 0; ; attempt++) {
      await this.gate.pass(signal);
      const sent = this.dialect;
      const body = chatBody(req, sent);
      journal.append({ t: "request", id, sha, attempt, at: new Date().toISOString(), body: body as unknown as Record<string, unknown> });
      const t0 = Date.now();
      let outcome: Outcome;
      // The SDK leaves a listener on the signal it is given: one short-lived signal per attempt, not the pool's.
      const attemptCtl = new AbortController();
      const onAbort = () => attemptCtl.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const raw: unknown = await this.client.chat.completions.create(body, { signal: attemptCtl.signal, timeout: limits.timeoutMs, headers: { "X-Client-Request-Id": headerId(id) } });
        this.reached = true;
        const c = Completion.safeParse(raw);
        if (c.success) {
          const answer: AnswerLine = { t: "answer", id, sha, attempt, at: new Date().toISOString(), ms: Date.now() - t0, completion: c.data };
          journal.append(answer);
          return { answer };
        }
        outcome = { kind: "retry", status: 200, error: `reply is not a chat completion (${c.error.issues[0].path.join(".") || "body"}: ${c.error.issues[0].message})`, waitMs: null };
      } catch (e) {
        if (signal?.aborted) throw e;
        if (e instanceof APIError && e.status !== undefined) this.reached = true;
        outcome = classify(e, { url: this.url, model: this.o.endpoint.model, dialect: sent, reached: this.reached, hasKey: !!(this.o.endpoint.apiKey ?? process.env.OPENAI_API_KEY) });
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
      const exhausted = outcome.kind === "retry" && retries >= limits.maxRetries;
      const wait = outcome.kind === "retry" && !exhausted ? (outcome.waitMs ?? backoffMs(retries, this.o.chat.retryBaseMs, this.o.chat.retryMaxMs)) : outcome.kind === "dialect" ? 0 : null;
      const error = outcome.kind === "fatal" ? outcome.error.message : outcome.error;
      journal.append({ t: "failure", id, sha, attempt, at: new Date().toISOString(), status: outcome.status, error, retry_in_ms: wait });
      if (outcome.kind === "fatal") throw outcome.error;
      if (outcome.kind === "failed") return { failure: outcome };
      if (outcome.kind === "dialect") {
        this.adopt(outcome.change, outcome.error);
        continue;
      }
      if (exhausted) {
        throw new BatchError(
          `chat request ${id} to ${this.url} failed ${retries + 1} times (last: ${error}); every answer so far is on disk, rerun with --resume to ask only the rest`,
          "chat_retries_exhausted",
        );
      }
      // The server said how long: every worker waits, not only this one.
      if (outcome.waitMs !== null) this.gate.hold(wait!);
      // A first retry is routine on a busy server; one that keeps failing is worth a warning.
      log()[retries === 0 ? "info" : "warn"]({ custom_id: id, status: outcome.status, attempt, retry_in_ms: wait }, `chat ${id}: ${error}; retrying in ${wait} ms`);
      retries++;
      await sleep(wait!, undefined, { signal });
    }
  }

  private adopt(change: Partial<Dialect>, why: string): void {
    const next = { ...this.dialect, ...change };
    if (next.jsonMode === this.dialect.jsonMode && next.maxTokensParam === this.dialect.maxTokensParam) return;
    this.dialect = next;
    log().warn({ url: this.url, dialect: next }, `chat endpoint rejected a parameter (${why}); continuing with ${JSON.stringify(change)}`);
  }
}
