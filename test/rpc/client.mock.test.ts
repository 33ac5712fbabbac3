import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { SidecarClient } from "../../src/rpc/client.ts";
import { startMockServer, type MockServer, type MockServerOptions } from "../doubles/mockSidecar.ts";
import { encodeTensor } from "../../src/rpc/arrow.ts";
import { decodeFloatTensor } from "./tensors.ts";
import { SidecarError } from "../../src/errors.ts";
import { pack, unpack } from "../../src/rpc/wire.ts";

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const x of open.reverse()) await x.close();
});

async function setup(opts: MockServerOptions = {}, client: { requestTimeoutMs?: number; maxBatchTokens?: number } = {}): Promise<{ server: MockServer; c: SidecarClient }> {
  const server = await startMockServer("tcp://127.0.0.1:*", opts);
  open.push(server);
  const c = new SidecarClient({
    model: "mock",
    python: "unused",
    transport: "tcp",
    endpoint: server.endpoint,
    startTimeoutMs: 5000,
    requestTimeoutMs: client.requestTimeoutMs ?? 5000,
    maxBatchTokens: client.maxBatchTokens,
  });
  open.push(c);
  return { server, c };
}

function isErr(code: string, re?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SidecarError, `expected SidecarError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

test("hello answers the mock model's facts over ZeroMQ", async () => {
  const { c } = await setup();
  const h = await c.hello();
  assert.equal(h.model_id, "mock");
  assert.equal(h.n_layers, 4);
  assert.equal(h.eos_token_ids[0], 0);
});

test("replies are matched by request id even when they come back out of order", async () => {
  // The first request is answered last: 120 ms, 60 ms, 0 ms delays on a concurrent server.
  const delays = [120, 60, 0];
  const { c } = await setup({ concurrent: true, delayMs: (op, args) => (op === "decode" ? delays[(args.ids as number[][])[0][0] - 4] : 0) });
  await c.hello();
  const texts = await Promise.all([c.decode([[4]]), c.decode([[5]]), c.decode([[6]])]);
  assert.deepEqual(texts, [[" "], ["!"], ['"']]);
});

test("each request carries a fresh string id and the protocol version", async () => {
  // A bare ROUTER that records the raw requests and answers with ok/echo.
  const { Router } = await import("zeromq");
  const r = new Router({ linger: 0 });
  await r.bind("tcp://127.0.0.1:*");
  open.push({ close: async () => r.close() });
  const seen: Record<string, unknown>[] = [];
  void (async () => {
    for await (const [ident, payload] of r) {
      const req = unpack(payload) as Record<string, unknown>;
      seen.push(req);
      const result = req.op === "hello" ? (await startHelloFacts()) : { tensor: null };
      await r.send([ident, pack({ v: 1, id: req.id, ok: true, result })]);
    }
  })().catch(() => {});
  const c = new SidecarClient({ model: "x", python: "unused", transport: "tcp", endpoint: r.lastEndpoint!, startTimeoutMs: 5000, requestTimeoutMs: 5000 });
  open.push(c);
  await c.echo();
  await c.echo();
  assert.equal(seen.length, 3);
  assert.deepEqual(
    seen.map((s) => [s.v, s.op]),
    [
      [1, "hello"],
      [1, "echo"],
      [1, "echo"],
    ],
  );
  const ids = seen.map((s) => s.id);
  assert.ok(ids.every((i) => typeof i === "string"));
  assert.equal(new Set(ids).size, 3);
});

async function startHelloFacts() {
  const { MockSidecar } = await import("../doubles/mockSidecar.ts");
  return new MockSidecar().helloFacts();
}

test("a request times out with sidecar_timeout, its late reply is dropped, and the next request gets its own answer", async () => {
  const { c } = await setup({ delayMs: (op, args) => (op === "decode" && (args.ids as number[][])[0][0] === 40 ? 300 : 0) });
  await c.hello();
  await assert.rejects(c.decode([[40]], true, { timeoutMs: 50 }), isErr("sidecar_timeout", /decode .* timed out after 50 ms/));
  // The server answers the slow request first (one at a time), then this one.
  const t = await c.decode([[41]]);
  assert.deepEqual(t, ["E"]); // id 41 = ASCII 32 + (41 - 4 specials)
  assert.equal(c.staleReplies, 1);
});

test("a reply that breaks the result schema rejects with sidecar_reply_invalid naming the field", async () => {
  const { c } = await setup({ mutateResult: (op, r) => (op === "tokenize" ? { ids: "nope", offsets: [] } : r) });
  await assert.rejects(c.tokenize(["hi"]), isErr("sidecar_reply_invalid", /tokenize .*field ids/));
  // The connection is still usable.
  assert.deepEqual(await c.decode([[44, 45]]), ["HI"]);
});

test("invalid args are refused before anything is sent", async () => {
  const { server, c } = await setup();
  await c.hello();
  const before = server.received;
  await assert.rejects(c.score([{ prefix: [], continuations: [[1]] }]), isErr("sidecar_args_invalid", /score: invalid args, field items\.0\.prefix/));
  await assert.rejects(c.call("nope" as never, {} as never), isErr("sidecar_unknown_op"));
  assert.equal(server.received, before);
});

test("a remote error becomes SidecarError sidecar_<code> with the remote type and message", async () => {
  const { c } = await setup({ fail: (op) => (op === "generate" ? { code: "model_error", type: "RuntimeError", message: "boom", traceback: "tb" } : undefined) });
  await assert.rejects(c.generate([[5]], { max_new_tokens: 2, do_sample: false }), (e: unknown) => {
    assert.ok(e instanceof SidecarError);
    assert.equal(e.code, "sidecar_model_error");
    assert.deepEqual(e.remote, { type: "RuntimeError", message: "boom", traceback: "tb" });
    return true;
  });
  assert.equal((await c.tokenize(["a"])).ids[0].length, 1);
});

test("raw garbage sent to the server gets an error reply with a null id and breaks nothing", async () => {
  const { server, c } = await setup();
  await c.hello();
  const d = new Dealer({ linger: 0 });
  d.connect(server.endpoint);
  await d.send(Buffer.from([0xc1, 0xff, 0x00]));
  const [reply] = await d.receive();
  const r = unpack(reply) as { ok: boolean; id: unknown; error: { code: string } };
  assert.equal(r.ok, false);
  assert.equal(r.id, null);
  assert.equal(r.error.code, "bad_request");
  await d.send(pack({ v: 1, id: "x1", op: "nope", args: {} }));
  const [reply2] = await d.receive();
  assert.equal((unpack(reply2) as { error: { code: string } }).error.code, "unknown_op");
  d.close();
  assert.equal((await c.hello()).model_id, "mock");
});

test("score, generate and logit_lens are chunked by the token budget and reassembled in order", async () => {
  const { server, c } = await setup({}, { maxBatchTokens: 10 });
  const model = server.sidecar.model;
  const count = (op: string) => server.sidecar.calls.filter((x) => x.op === op).length;
  const prompts = Array.from({ length: 7 }, (_, i) => [10 + i, 20 + i, 30 + i]);
  // (3 prompt + 2 new) tokens each, budget 10 → 2 prompts per request → 4 requests.
  const seqs = await c.generate(prompts, { max_new_tokens: 2, do_sample: true, seeds: prompts.map((_, i) => 100 + i) });
  assert.equal(count("generate"), 4);
  const whole = await server.sidecar.generate(prompts, { max_new_tokens: 2, do_sample: true, seeds: prompts.map((_, i) => 100 + i) });
  assert.deepEqual(seqs, whole, "seeds travel with their prompts, so chunking does not change samples");
  // score: 3 prefix + 2×2 continuation tokens = 7 each → one item per request.
  const items = prompts.slice(0, 3).map((p) => ({ prefix: p, continuations: [[50, 51], [52, 53]] }));
  const lp = await c.score(items);
  assert.equal(count("score"), 3);
  assert.deepEqual(lp, items.map((it) => it.continuations.map((k) => model.scoreOne(it.prefix, k))));
  // logit_lens: 3 ids each → 3 per request → 7 items → 3 requests.
  const lens = await c.logitLens(prompts.map((ids) => ({ ids, token_ids: [60] })));
  assert.equal(count("logit_lens"), 3);
  assert.equal(lens.length, 7);
  assert.ok(Math.abs(lens[6][4][0] - model.dist(prompts[6])[60]) < 1e-12);
});

test("trace tensors cross the wire as bf16 and decode with the right shapes", async () => {
  const { c } = await setup({ tensorDtype: "bfloat16" });
  const [item] = await c.trace([[10, 11, 12]]);
  const a = decodeFloatTensor(item.attentions);
  assert.equal(a.dtype, "bfloat16");
  assert.deepEqual(a.shape, [4, 4, 3]);
  const [full] = await c.trace([[10, 11, 12]], "full");
  const h = decodeFloatTensor(full.hidden!);
  assert.equal(h.dtype, "bfloat16");
  assert.deepEqual(h.shape, [5, 3, 8]);
});

test("a 4 MiB tensor echoes back byte-identical", async () => {
  const { c } = await setup();
  const data = Float32Array.from({ length: 1 << 20 }, (_, i) => Math.sin(i));
  const back = await c.echo(encodeTensor({ data, shape: [1024, 1024] }));
  assert.ok(back);
  const t = decodeFloatTensor(back);
  assert.deepEqual(t.shape, [1024, 1024]);
  assert.equal(t.data[12345], data[12345]);
  assert.equal(Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(data.buffer)), 0);
});

test("calls after close() fail with sidecar_closed", async () => {
  const { c } = await setup();
  await c.hello();
  await c.close();
  await assert.rejects(c.tokenize(["a"]), isErr("sidecar_closed"));
});
