import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config.ts";
import { InputError } from "../../src/errors.ts";
import { buildReport } from "../../src/report/build.ts";
import { BootstrapRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { makeFixtureRoot } from "./fixtures.ts";

const NOW = new Date("2026-02-01T00:00:00Z");

function cfgFor(root: string, B = 200): Config {
  return loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: B } } as never });
}

const root = makeFixtureRoot({ prompts: 60, layers: 12 });
const first = await buildReport(cfgFor(root), { now: NOW });
const tables = JSON.parse(readFileSync(first.tables, "utf8"));

test("writes seven figures as SVG and PNG, tables.json, bootstrap_results.csv, report.html", () => {
  assert.equal(first.figures.length, 7);
  for (const f of first.figures) {
    const svg = readFileSync(f.svg, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(!svg.includes("NaN"), `${f.name} has NaN coordinates`);
    const png = readFileSync(f.png);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.ok(png.length > 20_000, `${f.name}.png is only ${png.length} bytes`);
  }
  assert.deepEqual(
    readdirSync(join(root, "assets/figures")).filter((f) => f.endsWith(".svg")).sort(),
    first.figures.map((f) => `${f.name}.svg`).sort(),
  );
  assert.ok(existsSync(first.report));
  const rows = readCsv(first.bootstrap_results, BootstrapRow);
  assert.ok(rows.length > 100);
  for (const r of rows) if (Number.isFinite(r.ci_low)) assert.ok(r.ci_low <= r.ci_high, `${r.metric} ${r.group}`);
});

test("tables.json carries the run metadata and the per-bin counts of both conditions", () => {
  assert.equal(tables.schema_version, 2);
  assert.equal(tables.meta.model_id, "synthetic/tiny-model");
  assert.equal(tables.meta.run_config_hash, "0123456789abcdef");
  assert.equal(tables.meta.model_facts.n_layers, 12);
  assert.equal(tables.meta.model_facts.tokenizer_json, undefined);
  assert.equal(tables.meta.bootstrap.B, 200);
  assert.equal(tables.meta.report_generated_at, NOW.toISOString());
  assert.equal(tables.dataset.n_prompts, 60);
  for (const c of ["negative", "baseline"]) {
    const bins = tables.violation_by_bin[c];
    assert.equal(bins.length, 5);
    assert.equal(bins.reduce((a: number, b: { n_prompts: number }) => a + b.n_prompts, 0), 60);
    for (const b of bins) assert.ok(b.ci_low <= b.estimate && b.estimate <= b.ci_high, `${c} ${b.label}`);
  }
  assert.equal(tables.violation_by_bin.negative[4].label, "[0.8, 1]");
});

test("the fixture's built-in effects come out of the tables", () => {
  // Violations rise with P0: positive slope whose CI excludes 0, last bin above the first.
  assert.ok(tables.logistic.slope.ci_low > 0, JSON.stringify(tables.logistic.slope));
  const neg = tables.violation_by_bin.negative;
  assert.ok(neg[4].estimate > neg[0].estimate);
  assert.equal(tables.logistic.n_samples, 960);
  // Failures attend more to the target mention and less to the negation.
  assert.ok(tables.attention.failure_minus_success.tmf.ci_low > 0);
  assert.ok(tables.attention.failure_minus_success.nf.ci_high < 0);
  // Patching lowers P(X) early and raises it late (the fixture's sign change at 2/3 depth).
  const band = (site: string, b: string) => tables.patching.by_band.find((x: { site: string; band: string }) => x.site === site && x.band === b);
  assert.ok(band("resid", "early").delta_p.ci_high < 0);
  assert.ok(band("resid", "late").delta_p.ci_low > 0);
  assert.deepEqual(band("resid", "early").layers, [0, 3]);
  assert.deepEqual(band("resid", "late").layers, [8, 11]);
  // Failure types of the negative condition add up to one.
  const ft = tables.failure_types.negative;
  const total = ft.violation.estimate + ft.format_failure_without_x.estimate + ft.clean_success.estimate;
  assert.ok(Math.abs(total - 1) < 0.06, String(total));
});

test("tables.json numbers lens and decomposition layers by block: embeddings -1, last block L-1", () => {
  const lensLayers = tables.logit_lens.series.map((s: { layer: number }) => s.layer);
  const decompLayers = tables.decomposition.series.map((s: { layer: number }) => s.layer);
  assert.equal(Math.min(...lensLayers), -1);
  assert.equal(Math.max(...lensLayers), 11);
  assert.equal(Math.min(...decompLayers), 0);
  assert.equal(Math.max(...decompLayers), 11);
  assert.equal(tables.logit_lens.n_layers_plus_embeddings, 13);
  assert.match(tables.logit_lens.layer_note, /layer -1 = the embeddings/);
});

test("same inputs and seed give byte-identical tables and bootstrap results", async () => {
  const again = makeFixtureRoot({ prompts: 60, layers: 12 });
  const s = await buildReport(cfgFor(again), { now: NOW });
  // The data root (and so the config hash) differs between the two builds; nothing else may.
  const strip = (t: string) => t.replaceAll(again, "ROOT").replaceAll(root, "ROOT").replace(/"report_config_hash": "\w+"/, "");
  assert.equal(strip(readFileSync(s.tables, "utf8")), strip(readFileSync(first.tables, "utf8")));
  assert.equal(readFileSync(s.bootstrap_results, "utf8"), readFileSync(first.bootstrap_results, "utf8"));
  for (let i = 0; i < 7; i++) assert.equal(readFileSync(s.figures[i].svg, "utf8"), readFileSync(first.figures[i].svg, "utf8"));
  rmSync(again, { recursive: true, force: true });
});

test("twenty curated failures: greedy failures by pressure, round-robin over categories", () => {
  assert.equal(first.appendix_examples.length, 20);
  const ex = first.appendix_examples.map((p) => JSON.parse(readFileSync(p, "utf8")));
  assert.deepEqual(ex.map((e) => e.rank), Array.from({ length: 20 }, (_, i) => i + 1));
  for (const e of ex) {
    assert.ok(e.output.toLowerCase().includes(e.target_word.toLowerCase()));
    assert.equal(e.span.text.toLowerCase(), e.target_word.toLowerCase());
    assert.match(e.prompt, /Do not use the word ".+" anywhere in your answer\./);
    assert.ok(e.attention.global && e.attention.top_tmf_layers.length === 3);
  }
  const greedy = ex.filter((e) => e.source === "greedy");
  assert.equal(new Set(greedy.slice(0, 5).map((e) => e.category)).size, 5);
  // Within a category, pressure never increases down the list.
  for (const cat of new Set(greedy.map((e) => e.category))) {
    const p = greedy.filter((e) => e.category === cat).map((e) => e.p0);
    for (let i = 1; i < p.length; i++) assert.ok(p[i] <= p[i - 1]);
  }
});

test("without analyze outputs the report still has seven figures and lists what is missing", async () => {
  const r = makeFixtureRoot({ prompts: 25, withoutAnalysis: true });
  const s = await buildReport(cfgFor(r, 50), { now: NOW });
  assert.equal(s.figures.length, 7);
  assert.ok(s.missing_inputs.includes("runs/patching_results.csv"));
  assert.match(readFileSync(s.figures[6].svg, "utf8"), /No patching data/);
  assert.match(readFileSync(s.report, "utf8"), /Missing inputs/);
  rmSync(r, { recursive: true, force: true });
});

test("a missing psem.csv stops with an InputError naming the file", async () => {
  const r = makeFixtureRoot({ prompts: 10 });
  rmSync(join(r, "runs/psem.csv"));
  await assert.rejects(buildReport(cfgFor(r, 10)), (e: unknown) => e instanceof InputError && /psem\.csv/.test(e.message));
  rmSync(r, { recursive: true, force: true });
});

test("a malformed row is reported with file, line and field", async () => {
  const r = makeFixtureRoot({ prompts: 10 });
  const f = join(r, "runs/behavior.csv");
  const lines = readFileSync(f, "utf8").split("\n");
  lines[3] = lines[3].replace(/,negative,|,baseline,/, ",neither,");
  (await import("node:fs")).writeFileSync(f, lines.join("\n"));
  await assert.rejects(buildReport(cfgFor(r, 10)), /behavior\.csv, line 4, field condition/);
  rmSync(r, { recursive: true, force: true });
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test("CIs do not depend on the order of rows in the input files", async () => {
  const r = makeFixtureRoot({ prompts: 30, layers: 6 });
  const a = JSON.parse(readFileSync((await buildReport(cfgFor(r, 100), { now: NOW })).tables, "utf8"));
  const fs = await import("node:fs");
  for (const f of ["runs/psem.csv", "runs/behavior.csv", "runs/attention_metrics.csv"]) {
    const [head, ...rows] = fs.readFileSync(join(r, f), "utf8").trimEnd().split("\n");
    fs.writeFileSync(join(r, f), [head, ...rows.reverse()].join("\n") + "\n");
  }
  const b = JSON.parse(readFileSync((await buildReport(cfgFor(r, 100), { now: NOW })).tables, "utf8"));
  assert.deepEqual(b.logistic, a.logistic);
  assert.deepEqual(b.attention.by_outcome, a.attention.by_outcome);
  assert.deepEqual(b.violation_by_bin, a.violation_by_bin);
  rmSync(r, { recursive: true, force: true });
});
