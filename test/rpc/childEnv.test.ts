import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { allowedInSidecar, sidecarEnv } from "../../src/rpc/childEnv.ts";
import { spawnSidecar } from "../../src/rpc/process.ts";

const DUMP = resolve("test/fixtures/env-dump-sidecar.sh");
chmodSync(DUMP, 0o755); // in case a checkout lost the executable bit

/** Spawns the env-dumping stand-in for python with `env` and returns what it saw. */
async function childEnv(env: NodeJS.ProcessEnv | undefined, extra: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const file = join(mkdtempSync(join(tmpdir(), "envdump-")), "env.txt");
  const saved = { ...process.env };
  if (!env) Object.assign(process.env, extra, { SEMPRESS_ENV_DUMP: file });
  try {
    const sc = spawnSidecar({ python: DUMP, model: "m", endpoint: "tcp://127.0.0.1:1", env: env && { ...env, SEMPRESS_ENV_DUMP: file } });
    await sc.exited;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  }
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

test("when the CLI's environment has API keys then the sidecar child does not get them", async () => {
  const seen = await childEnv({
    PATH: process.env.PATH,
    HOME: "/home/x",
    OPENAI_API_KEY: "sk-secret",
    AWS_SECRET_ACCESS_KEY: "aws-secret",
    HF_TOKEN: "hf-token",
    LC_ALL: "C.UTF-8",
    CUDA_VISIBLE_DEVICES: "0",
    SEMPRESS_LOG_LEVEL: "warn",
  });
  assert.equal(seen.OPENAI_API_KEY, undefined);
  assert.equal(seen.AWS_SECRET_ACCESS_KEY, undefined);
  assert.equal(seen.HF_TOKEN, "hf-token", "hub downloads need HF_TOKEN");
  assert.equal(seen.LC_ALL, "C.UTF-8");
  assert.equal(seen.CUDA_VISIBLE_DEVICES, "0");
  assert.equal(seen.HOME, "/home/x");
  assert.match(seen.PYTHONPATH, /py-sidecar/);
});

test("when no env is given then process.env is filtered the same way", async () => {
  const seen = await childEnv(undefined, { OPENAI_API_KEY: "sk-from-process", HF_HOME: "/tmp/hf" });
  assert.equal(seen.OPENAI_API_KEY, undefined);
  assert.equal(seen.HF_HOME, "/tmp/hf");
});

test("the allow-list passes runtime knobs and drops everything else", () => {
  for (const k of ["PATH", "LANG", "TMPDIR", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "NVIDIA_VISIBLE_DEVICES", "TORCH_HOME", "TRANSFORMERS_CACHE", "XDG_CACHE_HOME", "HF_HUB_OFFLINE"]) {
    assert.ok(allowedInSidecar(k), k);
  }
  for (const k of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "NPM_TOKEN", "SSH_AUTH_SOCK"]) {
    assert.ok(!allowedInSidecar(k), k);
  }
  assert.deepEqual(sidecarEnv({ HOME: "/h", OPENAI_API_KEY: "k", X: undefined }), { HOME: "/h" });
});
