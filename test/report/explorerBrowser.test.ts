/**
 * The report's unit explorer in headless Chromium: reached from report.html, sortable by P0, filtered
 * by outcome, searched by prompt id, and opened from a #unit= link with the greedy answer's X marked
 * where the detector found it; no console errors, no requests.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../src/config.ts";
import { buildReport } from "../../src/report/build.ts";
import { DetectionRecord } from "../../src/schemas.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { withChromiumPage } from "../fixtures/chromium.ts";
import { needChromium } from "../fixtures/requirements.ts";
import { makeFixtureRoot } from "./fixtures.ts";
import { writeUnitFixtures } from "./explorerFixtures.ts";
import { assertSamplesMarked, searchAndOpen, violatingSample } from "./explorerPage.ts";

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

test("report.html links to an explorer that sorts, filters, searches and opens units with X marked", { skip: needChromium() }, async () => {
  const root = makeFixtureRoot({ prompts: 30, layers: 6 });
  roots.push(root);
  writeUnitFixtures(root);
  const s = await buildReport(loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: 50 } } as never }));
  const samples = readJsonl(join(root, "runs/detection_mapping.jsonl"), DetectionRecord);
  const greedyFail = readJsonl(join(root, "runs/detection_mapping_greedy.jsonl"), DetectionRecord).find((d) => d.condition === "negative" && d.present)!;
  const det = violatingSample(root);
  await withChromiumPage(async ({ page, errors, requests }) => {
    await page.goto(pathToFileURL(s.report).href, { waitUntil: "load" });
    await Promise.all([page.waitForURL(/explorer\.html/), page.click("#explorer-link")]);
    const p0s = () => page.$$eval("#units tbody tr td:nth-child(5)", (tds) => tds.map((t) => Number(t.textContent)));
    await page.click("#units th[data-k=p0]");
    const up = await p0s();
    assert.equal(up.length, 60);
    assert.deepEqual(up, [...up].sort((x, y) => x - y));
    await page.click("#units th[data-k=p0]");
    const down = await p0s();
    assert.deepEqual(down, [...down].sort((x, y) => y - x));
    await page.selectOption("#out", "failure");
    const outcomes = await page.$$eval("#units tbody tr td:nth-child(8)", (tds) => tds.map((t) => t.textContent));
    assert.ok(outcomes.length > 0 && outcomes.length < 60 && outcomes.every((o) => o === "failure"), outcomes.join(","));
    await page.selectOption("#out", "");
    await searchAndOpen(page, det.prompt_id, "negative");
    await assertSamplesMarked(page, samples, det.prompt_id, "negative");
    assert.equal(new URL(page.url()).hash, `#unit=${encodeURIComponent(`${det.prompt_id}|negative`)}`);

    // A link straight to a unit opens it; its greedy answer has X marked at the detector's span.
    await page.goto(`${pathToFileURL(s.explorer).href}#unit=${encodeURIComponent(`${greedyFail.prompt_id}|negative`)}`);
    await page.waitForSelector(`#detail[data-key="${greedyFail.prompt_id}|negative"]`, { state: "visible" });
    const [m] = greedyFail.matches;
    const mark = await page.$eval("#detail pre.greedy mark", (e) => [e.textContent, e.getAttribute("data-char-start"), e.getAttribute("data-token-end")]);
    assert.deepEqual(mark, [greedyFail.text.slice(m.char_start, m.char_end), String(m.char_start), String(m.token_end)]);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  });
});
