/**
 * The report shows only what the data supports: fitted curves stay inside the observed P0 range,
 * sparse bins are hollow in the figures and left out of per-bin claims.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as Plot from "@observablehq/plot";
import { loadConfig, type Config } from "../../src/config.ts";
import { buildReport } from "../../src/report/build.ts";
import * as fig1 from "../../src/report/figures/violationVsP0.ts";
import { SPARSE_SUFFIX } from "../../src/report/figures/binMarks.ts";
import { createDocument } from "../../src/report/figures/render.ts";
import { loadRunData } from "../../src/report/load.ts";
import { patchRuleOf } from "../../src/report/patchSubset.ts";
import { computeTables } from "../../src/report/tables.ts";
import { PsemRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { makeFixtureRoot } from "./fixtures.ts";

const cfgFor = (root: string): Config => loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: 60 } } as never });

/** Every x coordinate of an SVG path (M/L pairs, H values). */
function pathXs(d: string): number[] {
  const xs: number[] = [];
  for (const m of d.matchAll(/([MLH])\s*(-?[\d.]+(?:e-?\d+)?)/g)) xs.push(Number(m[2]));
  return xs;
}

/**
 * The mark group whose aria-description is exactly `desc`: its opening tag and everything up to the
 * next mark group (faceted marks nest one <g> per facet); null when absent.
 */
function group(svg: string, desc: string): { open: string; body: string; fills: Set<string> } | null {
  const i = svg.indexOf(`aria-description="${desc}"`);
  if (i < 0) return null;
  const start = svg.lastIndexOf("<g", i);
  const openEnd = svg.indexOf(">", i) + 1;
  const next = svg.indexOf("<g aria-label=", openEnd);
  const open = svg.slice(start, openEnd);
  const body = svg.slice(openEnd, next < 0 ? svg.length : next);
  const fills = new Set([...(open + body).matchAll(/ fill="([^"]+)"/g)].map((m) => m[1]));
  return { open, body, fills };
}

// Prompts only in the middle bins: observed P0 ≈ 0.2–0.8, far from 0 and 1.
const narrow = makeFixtureRoot({ binCounts: [0, 8, 8, 8, 0], layers: 6 });
const narrowCfg = cfgFor(narrow);
const narrowReport = await buildReport(narrowCfg);
const narrowTables = JSON.parse(readFileSync(narrowReport.tables, "utf8"));

// One sparse bin (2 prompts) at the top.
const sparse = makeFixtureRoot({ binCounts: [6, 6, 6, 6, 2], layers: 6 });
const sparseReport = await buildReport(cfgFor(sparse));
const sparseTables = JSON.parse(readFileSync(sparseReport.tables, "utf8"));
const svgOf = (s: typeof sparseReport, name: string) => readFileSync(s.figures.find((f) => f.name === name)!.svg, "utf8");

test.after(() => {
  rmSync(narrow, { recursive: true, force: true });
  rmSync(sparse, { recursive: true, force: true });
});

test("the logistic fit's observed range is the min..max P0 of the prompts in the fit", () => {
  const p0 = readCsv(join(narrow, "runs/psem.csv"), PsemRow).map((r) => r.p0);
  const r = narrowTables.logistic.observed_p0;
  assert.equal(r.min, Math.min(...p0));
  assert.equal(r.max, Math.max(...p0));
  assert.ok(r.min > 0.19 && r.max < 0.81, JSON.stringify(r));
  const xs = narrowTables.logistic.curve.map((c: { p0: number }) => c.p0);
  assert.equal(xs[0], r.min);
  assert.equal(xs[xs.length - 1], r.max);
  assert.ok(xs.every((x: number) => x >= r.min && x <= r.max));
});

test("figure 1 draws every fitted curve only over the observed P0 range", () => {
  const data = loadRunData(narrowCfg);
  const edges = narrowCfg.dataset.binEdges;
  const { tables, views } = computeTables(data, { edges, B: 60, seed: narrowCfg.seeds.python, patchRule: patchRuleOf(narrowCfg) });
  const spec = fig1.build({ tables, views, data, edges });
  const x = (Plot.plot({ ...spec.plot, width: spec.plot.width ?? 760, document: createDocument() }) as unknown as { scale(n: string): { apply(v: number): number } }).scale("x");
  const svg = svgOf(narrowReport, fig1.NAME);
  const r = narrowTables.logistic.observed_p0;
  const lo = x.apply(r.min) - 0.5;
  const hi = x.apply(r.max) + 0.5;
  assert.ok(x.apply(0) < lo - 50 && x.apply(1) > hi + 50, "the axis still spans 0..1");
  for (const desc of ["logistic fit", "logistic fit band", "prior work", "isotonic fit"]) {
    const g = group(svg, desc);
    assert.ok(g, `no ${desc} in the SVG`);
    const d = /<path[^>]* d="([^"]+)"/.exec(g.body)?.[1];
    assert.ok(d, `${desc}: no path`);
    const xs = pathXs(d);
    assert.ok(xs.length >= 2);
    for (const px of xs) assert.ok(px >= lo && px <= hi, `${desc}: x=${px} outside [${lo}, ${hi}]`);
  }
  const fit = pathXs(/<path[^>]* d="([^"]+)"/.exec(group(svg, "logistic fit")!.body)![1]);
  assert.ok(Math.min(...fit) < lo + 1 && Math.max(...fit) > hi - 1, "the fit reaches both ends of the observed range");
});

test("predictions outside the observed range are flagged in tables.json and not quoted in the report", () => {
  const pred = Object.fromEntries(narrowTables.logistic.predicted.map((p: { p0: number; in_observed_range: boolean }) => [p.p0, p.in_observed_range]));
  assert.deepEqual(pred, { 0.1: false, 0.5: true, 0.9: false });
  const html = readFileSync(narrowReport.report, "utf8");
  assert.match(html, /at P0 = 0\.5: /);
  assert.doesNotMatch(html, /at P0 = 0\.1: |at P0 = 0\.9: /);
  assert.match(html, /predictions at P0 = 0\.1, 0\.9 would be extrapolation and are not quoted/);
});

test("a bin with fewer than 3 prompts is drawn hollow in figure 1, the others filled", () => {
  const svg = svgOf(sparseReport, fig1.NAME);
  const filled = group(svg, "negative bin rate")!;
  const hollow = group(svg, `negative bin rate${SPARSE_SUFFIX}`)!;
  assert.deepEqual([...filled.fills], ["#3a6fb0"]);
  assert.equal((filled.body.match(/<circle/g) ?? []).length, 4);
  assert.deepEqual([...hollow.fills], ["none"]);
  assert.match(hollow.open, /stroke="#3a6fb0"/);
  assert.equal((hollow.body.match(/<circle/g) ?? []).length, 1);
  // The hollow marker is the top bin: right of every filled one.
  const cx = (body: string) => [...body.matchAll(/cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(cx(hollow.body)[0] > Math.max(...cx(filled.body)));
  assert.match(svg, /Hollow: bin with &lt; 3 prompts/);
});

test("every per-bin figure draws the sparse bin hollow", () => {
  const want: Record<string, string> = {
    fig2_suppression_vs_p0: `bin mean R${SPARSE_SUFFIX}`,
    fig7_patching: `bin ΔP${SPARSE_SUFFIX}`,
  };
  for (const [name, desc] of Object.entries(want)) {
    const g = group(svgOf(sparseReport, name), desc);
    assert.ok(g, `${name}: no hollow group`);
    assert.deepEqual([...g.fills], ["none"], name);
    assert.ok((g.body.match(/<circle/g) ?? []).length >= 1, name);
  }
  // Figure 3 splits bins by outcome: any cell with < 3 prompts is hollow, none with ≥ 3 is.
  const svg3 = svgOf(sparseReport, "fig3_attention_vs_p0");
  const cells = sparseTables.attention.by_bin_outcome.filter((c: { metric: string; mean: { n: number } }) => c.metric !== "pi" && c.mean.n > 0);
  const nSparse = cells.filter((c: { sparse: boolean }) => c.sparse).length;
  assert.ok(nSparse > 0);
  const hollow3 = group(svg3, `bin × outcome mean${SPARSE_SUFFIX}`)!;
  assert.deepEqual([...hollow3.fills], ["none"]);
  assert.equal((hollow3.body.match(/<circle/g) ?? []).length, nSparse);
  assert.equal((group(svg3, "bin × outcome mean")!.body.match(/<circle/g) ?? []).length, cells.length - nSparse);
});

test("a sparse bin keeps its numbers in tables.json, flagged, and is left out of the per-bin claim", () => {
  const top = sparseTables.violation_by_bin.negative[4];
  assert.equal(top.n_prompts, 2);
  assert.equal(top.sparse, true);
  assert.equal(typeof top.estimate, "number");
  assert.equal(sparseTables.violation_by_bin.negative[3].sparse, false);
  assert.equal(sparseTables.dataset.by_bin[4].sparse, true);
  assert.equal(sparseTables.suppression.by_bin[4].sparse, true);
  assert.equal(sparseTables.dataset.min_prompts_per_bin, 3);
  const s = sparseTables.violation_by_bin_summary;
  assert.deepEqual(s.compared, ["[0, 0.2)", "[0.2, 0.4)", "[0.4, 0.6)", "[0.6, 0.8)"]);
  assert.deepEqual(s.sparse_bins, [{ bin: 4, label: "[0.8, 1]", n_prompts: 2 }]);
  assert.equal(s.highest_pressure.label, "[0.6, 0.8)");
  assert.notEqual(s.highest_rate.label, "[0.8, 1]");
  const html = readFileSync(sparseReport.report, "utf8");
  const key = html.slice(html.indexOf('<section id="key">'), html.indexOf('<section id="figures">'));
  const sentence = /<li>By P0 bin[^<]*<\/li>/.exec(key)?.[0] ?? "";
  assert.match(sentence, /in \[0\.6, 0\.8\) \(n=6\)/);
  assert.match(sentence, /Not compared \(fewer than 3 prompts\): \[0\.8, 1\] \(n=2\)\./);
  assert.equal(sentence.split("[0.8, 1]").length - 1, 1, "the sparse bin is only named as left out");
  assert.match(html, /<tr class="sparse"><td>\[0\.8, 1\]<span class="tag">sparse/);
});
