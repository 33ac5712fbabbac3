/** Shared set-up for dataset tests: temp data roots, configs pointed at the local peers. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after } from "node:test";
import { loadConfig, type Config } from "../../src/config.ts";

export const TEST_KEY = "sk-test-SECRET-0123456789abcdef";

export function tempRoot(label: string): string {
  return mkdtempSync(join(tmpdir(), `sempress-${label}-`));
}

export function removeRoot(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A maker of temp data roots (`root(label)`) whose roots are all removed when the test file is done. */
export function scratchRoots(): (label: string) => string {
  const roots: string[] = [];
  after(() => roots.forEach(removeRoot));
  return (label) => {
    const r = tempRoot(label);
    roots.push(r);
    return r;
  };
}

/** The full design sizes (6,600 candidates → 5 × 500) or the default profile's small ones. */
export const FULL_SIZES = { poolSizes: { idioms: 1000, facts: 1000, commonsense: 1000, creative: 1800, ood: 1800 }, perCategory: 500 };
export const SMALL_SIZES = { poolSizes: { idioms: 30, facts: 30, commonsense: 20, creative: 15, ood: 15 }, perCategory: 5 };

export function testConfigObject(root: string, baseURL: string | null, sizes = SMALL_SIZES): Record<string, unknown> {
  return {
    profile: "default",
    dataRoot: root,
    dataset: sizes,
    llm: baseURL ? { provider: "openai", baseURL, pollIntervalMs: 10, pollMaxIntervalMs: 50 } : { provider: "replay", replayDir: "data/replay/demo" },
  };
}

export function testConfig(root: string, baseURL: string | null, sizes = SMALL_SIZES): Config {
  return loadConfig({ env: {}, flags: testConfigObject(root, baseURL, sizes) as never });
}

export function withKey<T>(fn: () => Promise<T>): Promise<T> {
  const prev = process.env.OPENAI_API_KEY;
  process.env.OPENAI_API_KEY = TEST_KEY;
  return fn().finally(() => {
    if (prev === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = prev;
  });
}

export function readLines(file: string): unknown[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/**
 * Whether two builds wrote the same dataset file. report.json records the LLM endpoint it talked to
 * (`llm.base_url`), and two test builds talk to local servers on different ports: that one field is
 * compared apart (both must be loopback URLs), every other byte must match.
 */
export function sameOutput(a: string, b: string, file: string): boolean {
  const [x, y] = [a, b].map((root) => readFileSync(join(root, file), "utf8"));
  if (!file.endsWith("report.json")) return x === y;
  const strip = (t: string) => {
    const j = JSON.parse(t) as { llm?: { base_url?: string | null } };
    const url = j.llm?.base_url;
    if (url) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//, `${file}: llm.base_url`);
    if (j.llm && "base_url" in j.llm) j.llm.base_url = "<local test server>";
    return JSON.stringify(j);
  };
  return strip(x) === strip(y);
}
