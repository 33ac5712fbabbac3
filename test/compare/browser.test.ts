/**
 * The compare report and a run's unit explorer in headless Chromium: the report's figures load, its
 * link opens the run's explorer, a prompt id is searched and its negative unit opened, and every
 * sample shows X marked at the span the detector recorded; no console errors, no requests.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compareRuns } from "../../src/compare/build.ts";
import { loadConfig } from "../../src/config.ts";
import { patchRuleOf } from "../../src/report/patchSubset.ts";
import { DetectionRecord } from "../../src/schemas.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { withChromiumPage } from "../fixtures/chromium.ts";
import { needChromium } from "../fixtures/requirements.ts";
import { assertSamplesMarked, searchAndOpen, violatingSample } from "../report/explorerPage.ts";
import { removeRoots, runRoot, scratchDir } from "./fixtures.ts";

after(removeRoots);

test("the compare report opens a run's explorer, where a searched prompt's samples show X at the detector's span", { skip: needChromium() }, async () => {
  const a = runRoot("m/small", { prompts: 30, layers: 6, seed: 5 });
  const b = runRoot("m/large", { prompts: 30, layers: 10, seed: 6 });
  const patchRule = patchRuleOf(loadConfig({ env: {} }));
  const s = await compareRuns([a, b], { out: scratchDir("cmp-browser-"), edges: [0, 0.2, 0.4, 0.6, 0.8, 1], B: 50, seed: 1, patchRule });
  const det = violatingSample(b);
  await withChromiumPage(async ({ page, errors, requests }) => {
    await page.goto(pathToFileURL(s.report).href, { waitUntil: "load" });
    const figs = await page.$$eval("figure.fig img", (els) => els.map((e) => ({ w: e.getBoundingClientRect().width, natural: (e as HTMLImageElement).naturalWidth })));
    assert.equal(figs.length, 3);
    for (const f of figs) assert.ok(f.w > 300 && f.natural > 0, JSON.stringify(f));
    assert.equal(await page.locator("p.mode[data-mode=paired]").count(), 1);
    await Promise.all([page.waitForURL(/explorer-B\.html/), page.click("a.explorer >> text=explore B")]);
    await page.waitForFunction(() => (window as unknown as { sempressExplorer?: unknown }).sempressExplorer !== undefined);
    assert.match(await page.locator("#count").innerText(), /^60 of 60 units/);
    await searchAndOpen(page, det.prompt_id, "negative");
    await assertSamplesMarked(page, readJsonl(join(b, "runs/detection_mapping.jsonl"), DetectionRecord), det.prompt_id, "negative");
    assert.equal(await page.locator("#detail table.heat tr[data-span]").count(), 4);
    assert.equal(await page.locator("#detail svg.lens polyline").count(), 1);
    await Promise.all([page.waitForURL(/compare\.html/), page.click("text=Back to the report")]);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], "both pages are self-contained");
  });
});
