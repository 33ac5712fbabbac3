/**
 * The unit explorer's data and page (no browser): attention shares recovered from the CSV's ratios,
 * one row and one detail per unit with the detector's spans, chunking, safe embedding of run text, and
 * the page a run without unit records gets.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { routingMetrics } from "../../src/metrics/attention.ts";
import { buildReport } from "../../src/report/build.ts";
import { writeExplorer } from "../../src/report/explorer/index.ts";
import { loadExplorerInputs } from "../../src/report/explorer/load.ts";
import { attentionShares, explorerModel } from "../../src/report/explorer/model.ts";
import { renderExplorer, scriptJson } from "../../src/report/explorer/page.ts";
import { loadRunData } from "../../src/report/load.ts";
import { makeFixtureRoot } from "./fixtures.ts";
import { writeUnitFixtures } from "./explorerFixtures.ts";
import { embeddedDetails } from "./explorerPage.ts";

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function root(opts: Parameters<typeof makeFixtureRoot>[0], units = true): string {
  const r = makeFixtureRoot(opts);
  roots.push(r);
  if (units) writeUnitFixtures(r);
  return r;
}


test("when masses are turned into the CSV's ratios, attentionShares gives them back as shares of instruction + question", () => {
  const m = { instruction: 0.3, negation: 0.05, target: 0.12, question: 0.2 };
  const s = attentionShares(routingMetrics(m));
  const z = m.instruction + m.question;
  for (const k of ["instruction", "negation", "target", "question"] as const) assert.ok(Math.abs(s[k] - m[k] / z) < 1e-8, `${k}: ${s[k]} vs ${m[k] / z}`);
});

test("when a run has unit records then every unit gets one row and one detail with its samples' detector spans", () => {
  const r = root({ prompts: 12, layers: 5, samples: 4 });
  const data = loadRunData({ dataRoot: r });
  const inputs = loadExplorerInputs(data);
  const model = explorerModel(inputs, 7);
  assert.equal(model.rows.length, 24);
  assert.deepEqual(model.chunks.map((c) => c.length), [7, 7, 7, 3]);
  const byKey = new Map(inputs.sampleDetections.map((d) => [`${d.prompt_id}|${d.condition}|${d.sample_index}`, d]));
  for (const row of model.rows) {
    const d = model.chunks[row.ch][row.at];
    assert.equal(d.k, row.k);
    assert.equal(d.samples.length, 4);
    assert.deepEqual(d.samples.map((s) => s.i), [0, 1, 2, 3]);
    for (const s of d.samples) {
      const det = byKey.get(`${d.id}|${d.c}|${s.i}`)!;
      assert.equal(s.text, det.text);
      assert.deepEqual(s.m, det.matches.map((m) => [m.char_start, m.char_end, m.token_start, m.token_end]));
    }
    assert.deepEqual(d.lens?.layers, [-1, 0, 1, 2, 3, 4]);
    // analyze writes attention rows of both conditions in the fixture; the heatmap is per layer only.
    assert.deepEqual(d.attn?.layers, [0, 1, 2, 3, 4]);
    if (d.c === "negative") {
      const reg = d.regions!;
      assert.equal(d.prompt.slice(reg.target![0], reg.target![1]), d.x);
      assert.equal(d.prompt.slice(reg.negation![0], reg.negation![1]), "Do not use");
    } else assert.equal(d.regions?.instruction, null);
  }
  const sorted = [...model.rows].sort((a, b) => (a.k < b.k ? -1 : 1));
  assert.deepEqual(model.rows.map((r) => r.k), sorted.map((r) => r.k));
});

test("when run text contains </script> then the embedded JSON still parses to that text and cannot close the script", () => {
  const evil = 'X </script><script>alert("x")</script> <!-- y';
  assert.equal(JSON.parse(scriptJson({ evil })).evil, evil);
  assert.ok(!scriptJson({ evil }).includes("<"));
  const r = root({ prompts: 3, layers: 2, samples: 2 });
  const data = loadRunData({ dataRoot: r });
  const inputs = loadExplorerInputs(data);
  const units = inputs.units.map((u) => ({ ...u, question_text: evil }));
  const html = renderExplorer({ title: "t", subtitle: "s", reportHref: null, notice: null, model: explorerModel({ ...inputs, units }) });
  assert.equal(html.match(/<\/script>/g)!.length, 3, "the index, the one chunk and the client script close; nothing else");
  const u0 = inputs.units[0];
  assert.equal(embeddedDetails(html).find((d) => d.k === `${u0.prompt_id}|${u0.condition}`)?.prompt, u0.prompt_text);
  const index = JSON.parse(/<script type="application\/json" id="explorer-index">([\s\S]*?)<\/script>/.exec(html)![1]) as { rows: { q: string }[] };
  assert.equal(index.rows[0].q, evil);
});

test("when the report is built then assets/explorer.html holds every unit and report.html links to it", async () => {
  const r = root({ prompts: 10, layers: 4 });
  const cfg = loadConfig({ env: {}, flags: { dataRoot: r, analysis: { bootstrapB: 20 } } as never });
  const s = await buildReport(cfg);
  assert.equal(s.explorer, join(r, "assets/explorer.html"));
  const html = readFileSync(s.explorer, "utf8");
  assert.equal(embeddedDetails(html).length, 20);
  assert.match(html, /<a href="report.html">Back to the report<\/a>/);
  assert.match(readFileSync(s.report, "utf8"), /<a href="explorer.html" id="explorer-link">Unit explorer<\/a>/);
  assert.ok(!html.includes('id="notice"'));
});

test("when a run has no units.jsonl then the explorer page says so and lists nothing", () => {
  const r = root({ prompts: 4, layers: 2 }, false);
  const s = writeExplorer(loadRunData({ dataRoot: r }), join(r, "assets/explorer.html"));
  assert.equal(s.units, 0);
  assert.deepEqual(s.missing_inputs, ["runs/units.jsonl"]);
  assert.match(readFileSync(s.path, "utf8"), /<p class="warn" id="notice">runs\/units.jsonl not found in .*sempress run --force/);
});
