import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareRunFacts, resolveRunDir, runFacts } from "../../src/compare/runDir.ts";
import { InputError } from "../../src/errors.ts";
import { removeRoots, runRoot } from "./fixtures.ts";

after(removeRoots);

const fails = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.code === code && re.test(e.message) && !e.message.includes("\n"));

test("a data root and its runs/ directory resolve to the same data root", () => {
  const root = runRoot("m/one");
  assert.equal(resolveRunDir(root), root);
  assert.equal(resolveRunDir(join(root, "runs")), root);
});

test("when a directory holds no run then the error names it and says what to give", () => {
  const empty = mkdtempSync(join(tmpdir(), "cmp-empty-"));
  try {
    fails(() => resolveRunDir(empty), "input_missing", new RegExp(`^${empty}: no runs/run.json here; give a data root`));
    fails(() => resolveRunDir(join(empty, "nope")), "input_missing", /nope: no such directory/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("when a runs directory was moved aside (runs.<stamp>) then it is refused with how to fix it", () => {
  const root = runRoot("m/aside");
  renameSync(join(root, "runs"), join(root, "runs.20260101T000000Z"));
  fails(() => resolveRunDir(join(root, "runs.20260101T000000Z")), "input_invalid", /not named runs\/.*rename it to runs\//);
});

test("run facts come from run.json's top level, labelled A, B in order, with the hello facts' layer count", () => {
  const a = runRoot("m/one", { layers: 6 });
  const b = runRoot("m/two", { layers: 9, sha: "cd".repeat(32) });
  const [fa, fb] = compareRunFacts([a, join(b, "runs")]);
  assert.deepEqual(
    [fa.label, fa.name, fa.model_spec, fa.prompt_format, fa.profile, fa.dataset.sha256, fa.n_layers, fa.config_hash],
    ["A", "m/one", "random:m/one.json", "raw", "default", "ab".repeat(32), 6, "0123456789abcdef"],
  );
  assert.deepEqual([fb.label, fb.name, fb.data_root, fb.n_layers], ["B", "m/two", b, 9]);
});

test("an older run.json without top-level facts is read through its config and model sections", () => {
  const root = mkdtempSync(join(tmpdir(), "cmp-old-"));
  try {
    mkdirSync(join(root, "runs"));
    writeFileSync(join(root, "runs/run.json"), JSON.stringify({ config: { profile: "paper", model: { id: "Qwen/X", promptFormat: "chat" } }, model: { model_id: "Qwen/X-resolved", n_layers: 28 } }));
    const f = runFacts(root, 2);
    assert.deepEqual([f.label, f.name, f.model_spec, f.profile, f.prompt_format, f.n_layers, f.dataset.sha256], ["C", "Qwen/X-resolved", "Qwen/X", "paper", "chat", 28, null]);
    writeFileSync(join(root, "runs/run.json"), JSON.stringify({ model: { n_layers: "many" } }));
    fails(() => runFacts(root, 0), "input_invalid", /runs\/run.json, field model.n_layers: /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("when fewer than two runs, or the same run twice, are given then compare refuses", () => {
  const a = runRoot("m/one");
  fails(() => compareRunFacts([a]), "input_invalid", /at least two run directories, got 1/);
  fails(() => compareRunFacts([a, join(a, "runs")]), "input_invalid", /the same run as/);
});
