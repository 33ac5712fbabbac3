import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { autoProfile, configHash, firstConfigDifference, loadConfig, runConfigHash, PAPER_MODEL, setupDirectories, DATA_DIRS } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

test("with no profile, no key and no GPU the default profile and the embedded model are chosen", () => {
  const cfg = loadConfig({ env: {} });
  assert.equal(cfg.profile, "default");
  assert.equal(cfg.model.id, "default");
  assert.deepEqual(cfg.seeds, { python: 42, torch: 42 });
  assert.equal(cfg.llm.provider, "replay");
});

test("when an OpenAI key and CUDA are present but no profile is given then the profile is default", () => {
  assert.equal(autoProfile({ OPENAI_API_KEY: "k" }, () => true), "default");
  assert.equal(autoProfile({ OPENAI_API_KEY: "k" }, () => false), "default");
  assert.equal(autoProfile({}, () => true), "default");
  const cfg = loadConfig({ env: { OPENAI_API_KEY: "k" } });
  assert.equal(cfg.profile, "default");
  assert.equal(cfg.llm.provider, "replay");
});

test("paper is chosen by --profile, SEMPRESS_PROFILE or a config file's profile", () => {
  assert.equal(loadConfig({ profile: "paper", env: {} }).profile, "paper");
  assert.equal(loadConfig({ env: { SEMPRESS_PROFILE: "paper" } }).profile, "paper");
  const dir = mkdtempSync(join(tmpdir(), "sempress-cfg-"));
  const file = join(dir, "p.json");
  writeFileSync(file, JSON.stringify({ profile: "paper" }));
  assert.equal(loadConfig({ file, env: {} }).profile, "paper");
  assert.throws(() => loadConfig({ env: { SEMPRESS_PROFILE: "toString" } }), /unknown profile "toString"/);
});

test("the paper profile carries the study's sizes and generation parameters", () => {
  const cfg = loadConfig({ profile: "paper", env: {} });
  assert.equal(cfg.model.id, PAPER_MODEL);
  assert.equal(cfg.dataset.perCategory, 500);
  assert.equal(cfg.dataset.p0Gate, 0.2);
  assert.deepEqual(cfg.dataset.poolSizes, { idioms: 1000, facts: 1000, commonsense: 1000, creative: 1800, ood: 1800 });
  assert.equal(cfg.generation.samplesPerPrompt, 16);
  assert.equal(cfg.generation.sampleMaxNewTokens, 10);
  assert.equal(cfg.generation.topP, 0.9);
  assert.equal(cfg.llm.provider, "openai");
});

test("file < env < flags, in that order of precedence", () => {
  const dir = mkdtempSync(join(tmpdir(), "sempress-cfg-"));
  const file = join(dir, "c.json");
  writeFileSync(file, JSON.stringify({ model: { id: "from-file" }, dataset: { perCategory: 7 } }));
  assert.equal(loadConfig({ file, env: {} }).model.id, "from-file");
  assert.equal(loadConfig({ file, env: {} }).dataset.perCategory, 7);
  assert.equal(loadConfig({ file, env: { SEMPRESS_MODEL: "from-env" } }).model.id, "from-env");
  assert.equal(loadConfig({ file, env: { SEMPRESS_MODEL: "from-env" }, flags: { model: { id: "flag" } } }).model.id, "flag");
});

test("an invalid value names the file and the field", () => {
  const dir = mkdtempSync(join(tmpdir(), "sempress-cfg-"));
  const file = join(dir, "bad.json");
  writeFileSync(file, JSON.stringify({ generation: { topP: 3 } }));
  assert.throws(() => loadConfig({ file, env: {} }), (e: unknown) => e instanceof ConfigError && /bad\.json/.test(e.message) && /generation\.topP/.test(e.message));
  writeFileSync(file, "{ not json");
  assert.throws(() => loadConfig({ file, env: {} }), /not valid JSON/);
  assert.throws(() => loadConfig({ env: { SEMPRESS_LLM: "claude" } }), /--llm/);
});

test("the config hash changes with any result setting and not with key order", () => {
  const a = loadConfig({ env: {} });
  const b = loadConfig({ env: {}, flags: { generation: { temperature: 0.7 } } });
  assert.notEqual(configHash(a), configHash(b));
  assert.notEqual(runConfigHash(a), runConfigHash(b));
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
  assert.equal(configHash(reordered), configHash(a));
  const roundTripped = JSON.parse(JSON.stringify({ ...a, model: { ...a.model, unsetOption: undefined } }));
  assert.equal(runConfigHash(roundTripped), runConfigHash(a), "an undefined field hashes like an absent one (run.json round trip)");
});

test("when only the data root, Python path, transport, timeouts or poll intervals differ then the hashes are the same", () => {
  const a = loadConfig({ env: {} });
  const b = loadConfig({
    env: { SEMPRESS_DATA_ROOT: "/elsewhere", SEMPRESS_PYTHON: "/opt/py/bin/python" },
    flags: {
      sidecar: { transport: "tcp", startTimeoutMs: 1, requestTimeoutMs: 2 },
      llm: { pollIntervalMs: 3, pollMaxIntervalMs: 4 },
    } as never,
  });
  assert.notEqual(b.dataRoot, a.dataRoot);
  assert.equal(configHash(b), configHash(a));
  assert.equal(runConfigHash(b), runConfigHash(a));
});

test("when only analysis settings differ then the run's hash is the same and the full hash is not", () => {
  const a = loadConfig({ env: {} });
  const b = loadConfig({ env: {}, flags: { analysis: { patchQuantile: 0.5 } } as never });
  assert.equal(runConfigHash(b), runConfigHash(a));
  assert.notEqual(configHash(b), configHash(a));
});

test("firstConfigDifference names the first differing field in sorted key order", () => {
  const a = loadConfig({ env: {} });
  const b = loadConfig({ env: {}, flags: { generation: { temperature: 0.7 }, seeds: { python: 1, torch: 42 } } as never });
  assert.deepEqual(firstConfigDifference(a, b), { path: "generation.temperature", a: 1, b: 0.7 });
  assert.equal(firstConfigDifference(a, structuredClone(a)), null);
});

test("setupDirectories makes every data directory under the root", () => {
  const root = mkdtempSync(join(tmpdir(), "sempress-root-"));
  setupDirectories({ dataRoot: root });
  for (const d of DATA_DIRS) assert.ok(existsSync(join(root, d)), d);
});

test("an unwritable data root stops with one clear line", { skip: process.getuid?.() === 0 ? "root can write anywhere; see the file-as-root case" : false }, () => {
  const root = mkdtempSync(join(tmpdir(), "sempress-ro-"));
  chmodSync(root, 0o500);
  assert.throws(() => setupDirectories({ dataRoot: root }), (e: unknown) => e instanceof ConfigError && e.code === "data_root_unwritable");
});

test("a data root that is a file (unwritable even for root) stops with data_root_unwritable", () => {
  const dir = mkdtempSync(join(tmpdir(), "sempress-file-"));
  const file = join(dir, "not-a-dir");
  writeFileSync(file, "x");
  assert.throws(
    () => setupDirectories({ dataRoot: file }),
    (e: unknown) => e instanceof ConfigError && e.code === "data_root_unwritable" && !e.message.includes("\n"),
  );
});
