import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeFixtureRoot } from "./fixtures.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");

test("`sempress report` prints one JSON line with the paths it wrote", () => {
  const root = makeFixtureRoot({ prompts: 25, layers: 6 });
  try {
    const r = spawnSync(process.execPath, ["bin/sempress.mjs", "--data-root", root, "--log-level", "warn", "report"], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, SEMPRESS_NO_BAR: "1" },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1, r.stdout);
    const out = JSON.parse(lines[0]);
    assert.equal(out.ok, true);
    assert.equal(out.figures.length, 14);
    for (const p of [out.report, out.tables, out.bootstrap_results, ...out.figures]) assert.ok(existsSync(p), p);
    assert.equal(out.n_prompts, 25);
    assert.ok(out.appendix_examples > 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
