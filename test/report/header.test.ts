/** The report header states where the numbers come from, and demo material is flagged at the top. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { buildReport } from "../../src/report/build.ts";
import { makeFixtureRoot, type FixtureOptions } from "./fixtures.ts";

const roots: string[] = [];
async function build(opts: FixtureOptions) {
  const root = makeFixtureRoot({ prompts: 15, layers: 4, ...opts });
  roots.push(root);
  const s = await buildReport(loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: 20 } } as never }));
  return { root, html: readFileSync(s.report, "utf8"), tables: JSON.parse(readFileSync(s.tables, "utf8")) };
}
test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The header's fact list as field → text. */
function facts(html: string): Record<string, string> {
  const header = html.slice(html.indexOf("<header>"), html.indexOf("</header>"));
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/<dd data-field="([^"]+)">(.*?)<\/dd>/g)) out[m[1]] = m[2].replace(/<[^>]+>/g, "");
  return out;
}

test("the header states profile, model and its source, prompt format, dataset file and LLM provider", async () => {
  const { root, html, tables } = await build({});
  const f = facts(html);
  assert.equal(f.profile, "default");
  assert.equal(f.model, "synthetic/tiny-model (source: random)");
  assert.equal(f.prompt_format, "raw");
  assert.equal(f.dataset, `${join(root, "data/validated/prompts.jsonl")} (OpenAI Batch API)`);
  assert.equal(f.llm_provider, "openai");
  const h = tables.meta.header;
  assert.equal(h.profile, "default");
  assert.equal(h.model_source, "random");
  assert.equal(h.prompts_file, join(root, "data/validated/prompts.jsonl"));
  assert.equal(h.llm_provider, "openai");
  assert.equal(h.demo.any, false);
  assert.deepEqual(h.not_recorded, []);
});

test("when nothing is demo material then there is no demo banner", async () => {
  const { html } = await build({});
  const body = html.slice(html.indexOf("<body>"));
  assert.doesNotMatch(body, /demo-banner|Demo data:|not model output/);
});

test("when the prompts come from the demo replay and the DEMO RULE then a banner opens the page", async () => {
  const { html, tables } = await build({ demo: true });
  const banner = /<div class="demo-banner"[^>]*>(.*?)<\/div>/.exec(html);
  assert.ok(banner, "no banner");
  const at = html.indexOf('<div class="demo-banner"');
  assert.ok(at < html.indexOf("<header>"), "the banner comes before the header");
  assert.equal(html.slice(html.indexOf("<main>") + "<main>".length, at).trim(), "", "the banner is the first thing on the page");
  assert.match(banner[1], /^<b>Demo data:<\/b>/);
  assert.match(banner[1], /not model output/);
  assert.match(banner[1], /5 of 15 prompts were built from the bundled hand-written demo replies/);
  assert.match(banner[1], /15 of 15 prompts were "validated" by a fixed DEMO RULE/);
  const f = facts(html);
  assert.equal(f.llm_provider, "demo");
  assert.match(f.dataset, /\(demo replay\)$/);
  assert.deepEqual(tables.meta.header.demo, { generated: 5, judged_by_rule: 15, of: 15, any: true });
  // This run.json predates the top-level dataset facts: the demo flag is asked for upstream.
  assert.deepEqual(tables.meta.header.not_recorded, ["runs/run.json → dataset.demo (true when the dataset came from the labelled demo set)"]);
});

test("when run.json records the dataset and provider at top level then the header uses them", async () => {
  const { html, tables } = await build({ runFields: { profile: "paper", prompt_format: "chat", dataset: { path: "/data/demo/prompts.jsonl", sha256: "ab", demo: true }, llm_provider: "replay" } });
  const f = facts(html);
  assert.equal(f.profile, "paper");
  assert.equal(f.prompt_format, "chat");
  assert.equal(f.dataset, "/data/demo/prompts.jsonl (demo replay)");
  assert.equal(f.llm_provider, "demo");
  assert.deepEqual(tables.meta.header.demo, { generated: 0, judged_by_rule: 0, of: 15, any: true });
  assert.match(html, /<div class="demo-banner"[^>]*><b>Demo data:<\/b> the run records its dataset as built from the labelled demo set \(data\/replay\/demo\)\. These replies and judgements are not model output/);
  assert.deepEqual(tables.meta.header.not_recorded, []);
});

test("when run.json and the dataset report lack a field then it reads unknown and is listed as not recorded", async () => {
  const { html, tables } = await build({ bareManifest: true, datasetReport: false });
  const f = facts(html);
  assert.equal(f.model, "unknown (source: unknown)");
  assert.match(f.dataset, /^unknown \(provenance unknown\)$/);
  assert.equal(f.llm_provider, "unknown");
  assert.equal(f.prompt_format, "raw", "falls back to the prompts' own format");
  assert.deepEqual(tables.meta.header.not_recorded, [
    "runs/run.json → model_id",
    "runs/run.json → model.model_source",
    "runs/run.json → dataset.path",
    "runs/run.json → llm_provider (or data/validated/report.json → provider)",
    "runs/run.json → dataset.demo (true when the dataset came from the labelled demo set)",
  ]);
  assert.match(html, /Not recorded by the run or the dataset build/);
  assert.doesNotMatch(html.slice(html.indexOf("<body>")), /demo-banner/);
});
