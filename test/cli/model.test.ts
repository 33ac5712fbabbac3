/**
 * `sempress model pull` against a real local HTTP hub (py-sidecar/tests/hub_server.py, serving the tiny
 * Qwen2 model as a private repo) through the real Python side. Skipped when the venv is missing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pullModel } from "../../src/cli/commands/model.ts";
import { SempressError } from "../../src/errors.ts";
import { needVenv } from "../fixtures/requirements.ts";

const PYTHON = resolve(".venv/bin/python");
const SKIP_PY = needVenv();
const HAVE_PY = !SKIP_PY;
const REPO = "sempress-test/tiny-qwen2";
const TOKEN = "hf_tsTestToken0123456789abcdef";

let server: ChildProcess | undefined;
let endpoint = "";
let commit = "";
const homes: string[] = [];

before(async () => {
  if (!HAVE_PY) return;
  server = spawn(PYTHON, ["py-sidecar/tests/hub_server.py", REPO, "--token", TOKEN], { stdio: ["ignore", "pipe", "ignore"] });
  const first = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error("hub server did not start within 180 s")), 180_000);
    createInterface({ input: server!.stdout! }).once("line", (l) => (clearTimeout(timer), res(l)));
    server!.once("exit", (c) => (clearTimeout(timer), rej(new Error(`hub server exited with ${c}`))));
  });
  const info = JSON.parse(first) as { port: number; commit: string };
  endpoint = `http://127.0.0.1:${info.port}`;
  commit = info.commit;
});

after(() => {
  server?.kill("SIGTERM");
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function hfEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), "hf-home-"));
  homes.push(home);
  const env: NodeJS.ProcessEnv = { ...process.env, HF_HOME: home, HF_ENDPOINT: endpoint, HF_HUB_DISABLE_TELEMETRY: "1", ...extra };
  for (const k of ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGING_FACE_HUB_TOKEN"]) if (!(k in extra)) delete env[k];
  if (!("HF_TOKEN" in extra)) delete env.HF_TOKEN;
  return env;
}

function collector(): { stream: Writable; text(): string } {
  let s = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk);
      cb();
    },
  });
  return { stream, text: () => s };
}

async function serverRequests(): Promise<{ method: string; path: string; authorization: string | null }[]> {
  return (await fetch(`${endpoint}/_requests`)).json() as never;
}

test("model pull downloads into HF_HOME with HF_TOKEN as Bearer, prints the snapshot, never logs the token", { skip: SKIP_PY }, async () => {
  const err = collector();
  const env = hfEnv({ HF_TOKEN: TOKEN });
  const r = await pullModel(REPO, { python: PYTHON, env, stderr: err.stream });
  assert.equal(r.id, REPO);
  assert.equal(r.commit, commit);
  assert.ok(r.path.startsWith(env.HF_HOME!), r.path);
  assert.deepEqual(r.files, ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
  assert.ok(r.bytes > 1_000_000);
  const mine = (await serverRequests()).filter((q) => q.path.includes(REPO));
  assert.ok(mine.some((q) => q.method === "GET" && q.path.endsWith("/model.safetensors")));
  assert.ok(mine.every((q) => q.authorization === `Bearer ${TOKEN}`));
  assert.ok(!mine.some((q) => q.path.endsWith(".bin")), "never pickled weights");
  assert.ok(!err.text().includes(TOKEN));
});

test("model pull without the token of a private repo fails in one line that says to set HF_TOKEN", { skip: SKIP_PY }, async () => {
  await assert.rejects(pullModel(REPO, { python: PYTHON, env: hfEnv(), stderr: collector().stream }), (e: SempressError) => {
    assert.equal(e.code, "model_pull_failed");
    assert.match(e.message, /set HF_TOKEN/);
    assert.equal(e.message.split("\n").length, 1);
    return true;
  });
});

test("model pull offline with an empty cache names the model, the cache path and offline mode", { skip: SKIP_PY }, async () => {
  const env = hfEnv({ HF_HUB_OFFLINE: "1", HF_TOKEN: TOKEN });
  await assert.rejects(pullModel(REPO, { python: PYTHON, env, stderr: collector().stream }), (e: SempressError) => {
    assert.equal(e.code, "model_pull_failed");
    assert.match(e.message, /sempress-test\/tiny-qwen2 is not in the HF cache at .*models--sempress-test--tiny-qwen2 and offline mode is on/);
    assert.ok(e.message.includes(env.HF_HOME!));
    assert.equal(e.message.split("\n").length, 1);
    return true;
  });
});

test("model pull refuses a local path and a malformed id before fetching anything", { skip: SKIP_PY }, async () => {
  for (const id of ["py-sidecar", "a/b/c"]) {
    await assert.rejects(pullModel(id, { python: PYTHON, env: hfEnv(), stderr: collector().stream }), (e: SempressError) => {
      assert.equal(e.code, "not_a_hub_id");
      assert.match(e.message, /not a hub id/);
      return true;
    });
  }
});

test("npx sempress model pull prints one JSON document on stdout and progress on stderr", { skip: SKIP_PY }, async () => {
  const child = spawn(process.execPath, ["bin/sempress.mjs", "model", "pull", REPO, "--revision", commit], {
    env: hfEnv({ HF_TOKEN: TOKEN }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((res) => child.once("close", res));
  assert.equal(code, 0, err);
  assert.equal(out.trim().split("\n").length, 1);
  const doc = JSON.parse(out);
  assert.equal(doc.revision, commit);
  assert.equal(doc.commit, commit);
  assert.match(err, /Fetching 5 files/);
  assert.ok(!err.includes(TOKEN) && !out.includes(TOKEN));
});
