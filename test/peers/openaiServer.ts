/**
 * A local stand-in for the OpenAI Files + Batches API (node:http, loopback only), enough for the
 * official SDK: upload (multipart), retrieve file and content, create and retrieve batches. Batches
 * move validating → in_progress → a terminal status on retrieve; replies come from a deterministic
 * responder given each request line. Per-batch behaviour (hold, expire, fail) is chosen by a hook so
 * tests can stage crashes and bad outcomes. Reusable by any test that needs a Batch API peer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RequestLine {
  custom_id: string;
  method: string;
  url: string;
  body: { input: string; model: string; [k: string]: unknown };
}

/** What the responder makes of one request: model text, an error-file line, or an HTTP error body. */
export type Reply = { text: string; status?: "completed" | "incomplete" } | { error: { code: string; message: string } } | { http: number; message: string };
export type Responder = (req: RequestLine) => Reply;

export interface BatchBehaviour {
  /** Stay in_progress until release(batch_id) is called. */
  hold?: boolean;
  /** Retrieves in_progress before finishing (default 1). */
  polls?: number;
  /** End as "expired" after answering only the first `expireAfter` requests. */
  expireAfter?: number;
  /** End as "failed" with this validation error (no output file). */
  fail?: string;
}

export interface Submission {
  batch_id: string;
  input_file_id: string;
  n: number;
  metadata: Record<string, string>;
  endpoint: string;
  completion_window: string;
}

interface BatchRec {
  obj: Record<string, unknown> & { id: string; status: string };
  lines: RequestLine[];
  behaviour: BatchBehaviour;
  polls: number;
  released: boolean;
}

export interface OpenAIServerOptions {
  responder: Responder;
  /** Behaviour of the i-th batch created (0-based), given its lines and metadata. */
  behaviour?: (index: number, lines: RequestLine[], metadata: Record<string, string>) => BatchBehaviour;
}

export interface OpenAIServer {
  /** Base URL for the SDK, ending in /v1. */
  baseURL: string;
  submissions: Submission[];
  uploads: number;
  /** Every Authorization header seen (so tests can check the key only travels there). */
  authHeaders: string[];
  /** "METHOD path" of every request. */
  log: string[];
  release(batchId?: string): void;
  /** Resolves once a batch whose part key starts with `prefix` was retrieved at least `n` times. */
  waitForPolls(prefix: string, n: number, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function outputLine(customId: string, n: number, reply: Reply): { line: string; isError: boolean } {
  const id = `batch_req_${n}`;
  if ("error" in reply) return { line: JSON.stringify({ id, custom_id: customId, response: null, error: reply.error }), isError: true };
  if ("http" in reply) {
    return {
      line: JSON.stringify({ id, custom_id: customId, response: { status_code: reply.http, request_id: `req_${n}`, body: { error: { message: reply.message, type: "server_error" } } }, error: null }),
      isError: true,
    };
  }
  const body = {
    id: `resp_${n}`,
    object: "response",
    status: reply.status ?? "completed",
    model: "local-test-model",
    output: [
      { type: "reasoning", id: `rs_${n}`, summary: [] },
      { type: "message", id: `msg_${n}`, role: "assistant", content: [{ type: "output_text", text: reply.text, annotations: [] }] },
    ],
  };
  return { line: JSON.stringify({ id, custom_id: customId, response: { status_code: 200, request_id: `req_${n}`, body }, error: null }), isError: false };
}

export async function startOpenAIServer(opts: OpenAIServerOptions): Promise<OpenAIServer> {
  const files = new Map<string, { filename: string; purpose: string; content: string }>();
  const batches = new Map<string, BatchRec>();
  const submissions: Submission[] = [];
  const authHeaders: string[] = [];
  const log: string[] = [];
  let seq = 0;
  let uploads = 0;
  let lineSeq = 0;

  const finish = (b: BatchRec) => {
    const out: string[] = [];
    const err: string[] = [];
    const limit = b.behaviour.expireAfter ?? b.lines.length;
    b.lines.forEach((l, i) => {
      const reply: Reply = i < limit ? opts.responder(l) : { error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." } };
      const { line, isError } = outputLine(l.custom_id, lineSeq++, reply);
      (isError ? err : out).push(line);
    });
    const mk = (lines: string[], tag: string) => {
      if (!lines.length) return null;
      const id = `file-${tag}-${++seq}`;
      files.set(id, { filename: `${tag}.jsonl`, purpose: "batch_output", content: lines.join("\n") + "\n" });
      return id;
    };
    b.obj.output_file_id = mk(out, "out");
    b.obj.error_file_id = mk(err, "err");
    b.obj.status = b.behaviour.expireAfter !== undefined ? "expired" : "completed";
    b.obj.request_counts = { total: b.lines.length, completed: out.length, failed: err.length };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/^\/v1/, "");
    log.push(`${req.method} ${path}`);
    if (req.headers.authorization) authHeaders.push(String(req.headers.authorization));
    const body = await readBody(req);
    if (req.method === "POST" && path === "/files") {
      const form = await new Request("http://local/files", { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body: new Uint8Array(body) }).formData();
      const file = form.get("file");
      if (!(file instanceof Blob)) return send(res, 400, { error: { message: "file missing" } });
      const id = `file-in-${++seq}`;
      uploads++;
      files.set(id, { filename: (file as File).name ?? "upload.jsonl", purpose: String(form.get("purpose")), content: await file.text() });
      return send(res, 200, { id, object: "file", bytes: file.size, created_at: 0, filename: (file as File).name, purpose: form.get("purpose"), status: "processed" });
    }
    let m = /^\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === "GET" && m) {
      const f = files.get(m[1]);
      return f ? send(res, 200, f.content, "application/octet-stream") : send(res, 404, { error: { message: "no such file" } });
    }
    m = /^\/files\/([^/]+)$/.exec(path);
    if (req.method === "GET" && m) {
      const f = files.get(m[1]);
      return f ? send(res, 200, { id: m[1], object: "file", filename: f.filename, purpose: f.purpose, bytes: f.content.length, created_at: 0 }) : send(res, 404, { error: { message: "no such file" } });
    }
    if (req.method === "POST" && path === "/batches") {
      const p = JSON.parse(body.toString("utf8")) as { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> };
      const f = files.get(p.input_file_id);
      if (!f) return send(res, 404, { error: { message: "input file not found" } });
      const lines = f.content.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as RequestLine);
      const id = `batch_${++seq}`;
      const metadata = p.metadata ?? {};
      const behaviour = opts.behaviour?.(submissions.length, lines, metadata) ?? {};
      const obj = {
        id,
        object: "batch",
        endpoint: p.endpoint,
        input_file_id: p.input_file_id,
        completion_window: p.completion_window,
        status: "validating",
        output_file_id: null,
        error_file_id: null,
        created_at: 0,
        metadata,
        errors: null,
        request_counts: { total: lines.length, completed: 0, failed: 0 },
      };
      batches.set(id, { obj, lines, behaviour, polls: 0, released: false });
      submissions.push({ batch_id: id, input_file_id: p.input_file_id, n: lines.length, metadata, endpoint: p.endpoint, completion_window: p.completion_window });
      return send(res, 200, obj);
    }
    if (req.method === "GET" && path === "/batches") {
      const data = [...batches.values()].map((b) => b.obj).reverse();
      return send(res, 200, { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
    }
    m = /^\/batches\/([^/]+)$/.exec(path);
    if (req.method === "GET" && m) {
      const b = batches.get(m[1]);
      if (!b) return send(res, 404, { error: { message: "no such batch" } });
      b.polls++;
      const terminal = ["completed", "expired", "failed", "cancelled"].includes(b.obj.status);
      if (!terminal) {
        if (b.behaviour.fail) {
          b.obj.status = "failed";
          b.obj.errors = { object: "list", data: [{ code: "invalid_request", message: b.behaviour.fail, line: 1, param: null }] };
        } else if ((b.behaviour.hold && !b.released) || b.polls <= (b.behaviour.polls ?? 1)) {
          b.obj.status = "in_progress";
        } else finish(b);
      }
      return send(res, 200, b.obj);
    }
    return send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { error: { message: String(e) } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    submissions,
    get uploads() {
      return uploads;
    },
    authHeaders,
    log,
    release(batchId?: string) {
      for (const [id, b] of batches) if (!batchId || id === batchId) b.released = true;
    },
    async waitForPolls(prefix, n, timeoutMs = 30_000) {
      const t0 = Date.now();
      for (;;) {
        for (const b of batches.values()) {
          if (String((b.obj.metadata as Record<string, string>).sempress_part ?? "").startsWith(prefix) && b.polls >= n) return b.obj.id;
        }
        if (Date.now() - t0 > timeoutMs) throw new Error(`no batch ${prefix}* polled ${n} times within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  } as OpenAIServer;
}
