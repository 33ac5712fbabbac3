/**
 * The TS client against the REAL Python sidecar on a tiny random-weight Qwen2 (3 layers, 4 heads,
 * hidden 64, the real Qwen tokenizer). Slow parts (process starts) are shared: one ipc client for
 * most tests, one tcp client for the loopback check and the crash/restart test.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Dealer } from "zeromq";
import { SidecarClient, type SidecarClientOptions } from "../../src/rpc/client.ts";
import { slice } from "../../src/rpc/arrow.ts";
import { decodeFloatTensor } from "./tensors.ts";
import { pack, unpack } from "../../src/rpc/wire.ts";
import { SidecarError } from "../../src/errors.ts";
import { alive } from "../fixtures/pids.ts";
import { needVenv } from "../fixtures/requirements.ts";

const MAIN = "py-sidecar/sempress_sidecar/__main__.py";
const PY = ".venv/bin/python";
const CONFIG = "py-sidecar/configs/qwen2-tiny.json";
const MODEL = `random:${CONFIG}`;
const SKIP = needVenv([MAIN]);

const opts = (transport: "ipc" | "tcp", extra: Partial<SidecarClientOptions> = {}): SidecarClientOptions => ({
  model: MODEL,
  python: PY,
  transport,
  startTimeoutMs: 240_000,
  requestTimeoutMs: 120_000,
  ...extra,
});

let ipc: SidecarClient;
let tcp: SidecarClient;
if (!SKIP) {
  before(async () => {
    ipc = new SidecarClient(opts("ipc"));
    tcp = new SidecarClient(opts("tcp"));
    await Promise.all([ipc.start(), tcp.start()]);
  });
  after(async () => {
    await Promise.all([ipc?.close(), tcp?.close()]);
  });
} else {
  test(`real sidecar tests skipped: ${SKIP}`, { skip: SKIP }, () => {});
}

/** LISTEN sockets (local address as "a.b.c.d:port" or "[v6]:port") owned by a process, from /proc. */
function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9])) continue; // 0A = LISTEN
      const [hex, port] = f[1].split(":");
      const addr =
        hex.length === 8
          ? hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join(".")
          : `[${hex}]`;
      out.push(`${addr}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

test("hello reports the tiny model's facts", { skip: SKIP }, async () => {
  const h = await ipc.call("hello", {});
  assert.equal(h.model_id, MODEL);
  assert.equal(h.model_source, "random");
  assert.equal(h.n_layers, 3);
  assert.equal(h.n_heads, 4);
  assert.equal(h.n_kv_heads, 2);
  assert.equal(h.hidden_size, 64);
  assert.equal(h.vocab_size, 151936);
  assert.equal(h.dtype, "float32");
  assert.equal(h.device, "cpu");
  assert.equal(h.pid, ipc.pid);
  assert.ok(JSON.parse(h.tokenizer_json).model, "tokenizer_json is a tokenizer.json");
  assert.ok(h.max_batch_tokens > 0);
});

test("the ipc endpoint lives in a 0700 directory and the sidecar listens on no TCP port", { skip: SKIP }, () => {
  const ep = ipc.endpoint!;
  assert.match(ep, /^ipc:\/\//);
  const path = ep.slice("ipc://".length);
  assert.ok(existsSync(path), "socket file exists");
  assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
  assert.deepEqual(listeningSockets(ipc.pid!), []);
});

test("the tcp endpoint is bound to 127.0.0.1 only", { skip: SKIP }, () => {
  const port = Number(/^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(tcp.endpoint!)?.[1]);
  assert.ok(port > 0, tcp.endpoint!);
  assert.deepEqual(listeningSockets(tcp.pid!), [`127.0.0.1:${port}`]);
});

test("tokenize then decode gives the text back", { skip: SKIP }, async () => {
  const texts = ["Answer with exactly one English word.\nQuestion: The capital of France is ____.\nAnswer:", " Paris.", "naïve café — 東京 🙂"];
  const { ids, offsets } = await ipc.tokenize(texts);
  assert.equal(ids.length, 3);
  assert.equal(offsets[1].length, ids[1].length);
  assert.deepEqual(await ipc.decode(ids), texts);
  assert.deepEqual(offsets[1][0], [0, 6], '" Paris" is one token');
});

test("score equals log-softmax computed directly in Python (|Δ| < 1e-4)", { skip: SKIP }, async () => {
  const { ids } = await ipc.tokenize(["Question: The capital of France is", " Paris", " Paris.", " London"]);
  const items = [
    { prefix: ids[0], continuations: [ids[1], ids[2], ids[3]] },
    { prefix: [ids[0][0]], continuations: [[42, 43, 44]] },
  ];
  const got = await ipc.score(items);
  const ref = spawnSync(PY, ["test/fixtures/logsoftmax.py", CONFIG], { input: JSON.stringify({ items }), encoding: "utf8" });
  assert.equal(ref.status, 0, ref.stderr);
  const want = JSON.parse(ref.stdout).logprobs as number[][][];
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    for (let k = 0; k < want[i].length; k++) {
      assert.equal(got[i][k].length, want[i][k].length);
      for (let t = 0; t < want[i][k].length; t++) {
        assert.ok(Math.abs(got[i][k][t] - want[i][k][t]) < 1e-4, `item ${i} cont ${k} t ${t}: ${got[i][k][t]} vs ${want[i][k][t]}`);
      }
    }
  }
});

test("greedy generation is identical twice; sampling with the same seed is identical twice", { skip: SKIP }, async () => {
  const { ids } = await ipc.tokenize(["Fill the blank: the sky is", "Answer:"]);
  const g1 = await ipc.generate(ids, { max_new_tokens: 6, do_sample: false });
  const g2 = await ipc.generate(ids, { max_new_tokens: 6, do_sample: false });
  assert.deepEqual(g1, g2);
  assert.equal(g1[0][0].length, 6);
  const s = (seeds: number[]) => ipc.generate(ids, { max_new_tokens: 6, do_sample: true, temperature: 1, top_p: 0.9, n: 3, seeds });
  const s1 = await s([7, 8]);
  const s2 = await s([7, 8]);
  assert.deepEqual(s1, s2);
  assert.equal(s1[0].length, 3);
  const s3 = await s([9, 10]);
  assert.notDeepEqual(s3, s1, "another seed gives other samples");
});

test("a decision trace holds the last query's attention row per layer and head, each summing to 1", { skip: SKIP }, async () => {
  const { ids } = await ipc.tokenize(["Question: what colour is the sky?\nAnswer:"]);
  const [item] = await ipc.trace(ids);
  assert.equal(item.hidden, null);
  const a = decodeFloatTensor(item.attentions);
  assert.deepEqual(a.shape, [3, 4, ids[0].length]);
  for (let l = 0; l < 3; l++) {
    for (let hd = 0; hd < 4; hd++) {
      const sum = slice(a, [l, hd]).data.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${l} head ${hd}: row sums to ${sum}`);
    }
  }
  const [full] = await ipc.trace(ids, "full");
  const n = ids[0].length;
  assert.deepEqual(decodeFloatTensor(full.hidden!).shape, [4, n, 64]);
  const fa = decodeFloatTensor(full.attentions);
  assert.deepEqual(fa.shape, [3, 4, n, n]);
  for (let k = 0; k < n; k++) assert.ok(Math.abs(slice(fa, [2, 1, n - 1]).data[k] - slice(a, [2, 1]).data[k]) < 1e-5, `key ${k}`);
});

test("a bad token id comes back as a remote error with its Python type, and the sidecar keeps serving", { skip: SKIP }, async () => {
  await assert.rejects(ipc.score([{ prefix: [1], continuations: [[10_000_000]]}]), (e: unknown) => {
    assert.ok(e instanceof SidecarError);
    assert.match(e.code, /^sidecar_(bad_args|model_error)$/);
    assert.ok(e.remote?.type, "remote type present");
    return true;
  });
  assert.equal((await ipc.tokenize(["ok"])).ids.length, 1);
});

test("raw garbage and an unknown op on a second socket get error replies; hello still answers", { skip: SKIP }, async () => {
  const d = new Dealer({ linger: 0, receiveTimeout: 30_000 });
  d.connect(ipc.endpoint!);
  try {
    await d.send(Buffer.from("\xc1 this is not msgpack", "latin1"));
    const r1 = unpack((await d.receive())[0]) as { ok: boolean; id: unknown; error: { code: string } };
    assert.equal(r1.ok, false);
    assert.equal(r1.id, null);
    assert.equal(r1.error.code, "bad_request");
    await d.send(pack({ v: 1, id: "raw-1", op: "rm_rf", args: {} }));
    const r2 = unpack((await d.receive())[0]) as { ok: boolean; id: unknown; error: { code: string } };
    assert.deepEqual([r2.ok, r2.id, r2.error.code], [false, "raw-1", "unknown_op"]);
    await d.send(pack({ v: 1, id: "raw-2", op: "generate", args: { prompts: "x" } }));
    const r3 = unpack((await d.receive())[0]) as { ok: boolean; id: unknown; error: { code: string } };
    assert.deepEqual([r3.ok, r3.id, r3.error.code], [false, "raw-2", "bad_args"]);
  } finally {
    d.close();
  }
  assert.equal((await ipc.call("hello", {})).pid, ipc.pid);
});

test("SIGKILL of the sidecar mid-request: the caller gets the retried answer or a clear SidecarError, and the next request succeeds", { skip: SKIP }, async (t) => {
  const { ids } = await tcp.tokenize(["Once upon a time", "The quick brown fox", "Answer:", "Question:"]);
  const oldPid = tcp.pid!;
  await tcp.setSeed(77);
  const args = { max_new_tokens: 24, do_sample: false } as const;
  const pending = tcp.generate(ids, args).then(
    (v) => ({ v }),
    (e: unknown) => ({ e }),
  );
  await new Promise((r) => setTimeout(r, 300));
  process.kill(oldPid, "SIGKILL");
  const out = await pending;
  t.diagnostic("e" in out ? `request failed: ${(out.e as Error).message.split("\n")[0]}` : "request was retried on the restarted sidecar");
  if ("e" in out) {
    assert.ok(out.e instanceof SidecarError, String(out.e));
    assert.equal(out.e.code, "sidecar_died");
    assert.match(out.e.message, /SIGKILL/);
  } else {
    const again = await tcp.generate(ids, args);
    assert.deepEqual(out.v, again, "the retried answer equals a fresh one");
  }
  assert.notEqual(tcp.pid, oldPid);
  assert.ok(!alive(oldPid));
  assert.equal((await tcp.call("hello", {})).pid, tcp.pid);
  // The global seed was re-applied to the new process: unseeded sampling matches a fresh set_seed(77).
  const sampleArgs = { max_new_tokens: 5, do_sample: true, n: 2 } as const;
  const afterRestart = await tcp.generate(ids.slice(0, 1), sampleArgs);
  await tcp.setSeed(77);
  assert.deepEqual(await tcp.generate(ids.slice(0, 1), sampleArgs), afterRestart);
  const port = Number(/:(\d+)$/.exec(tcp.endpoint!)?.[1]);
  assert.deepEqual(listeningSockets(tcp.pid!), [`127.0.0.1:${port}`], "the restarted sidecar is on loopback too");
});

test("a sidecar that exits during start is reported with its last stderr lines", { skip: SKIP }, async () => {
  const c = new SidecarClient(opts("ipc", { model: "random:py-sidecar/configs/does-not-exist.json" }));
  await assert.rejects(c.start(), (e: unknown) => {
    assert.ok(e instanceof SidecarError);
    assert.equal(e.code, "sidecar_start_failed");
    assert.match(e.message, /exit code \d+/);
    assert.match(e.message, /does not exist/);
    return true;
  });
  await c.close();
});

test("close() stops the sidecar and removes the private socket directory", { skip: SKIP }, async () => {
  const pid = ipc.pid!;
  const dir = dirname(ipc.endpoint!.slice("ipc://".length));
  await ipc.close();
  assert.ok(!alive(pid), "sidecar process is gone");
  assert.ok(!existsSync(dir), "socket dir removed");
});
