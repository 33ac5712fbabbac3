/**
 * Opens report.html in headless Chromium (Debian's /usr/bin/chromium through playwright-core) and
 * checks that every figure loaded with a non-zero size and that the page logged no error. Saves a
 * full-page screenshot to a temp dir (path printed) for a human look.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../src/config.ts";
import { buildReport } from "../../src/report/build.ts";
import { makeFixtureRoot } from "./fixtures.ts";
import { withChromiumPage } from "../fixtures/chromium.ts";
import { needChromium } from "../fixtures/requirements.ts";


test("report.html shows seven loaded figures in headless Chromium without console errors", { skip: needChromium() }, async () => {
  const root = makeFixtureRoot({ prompts: 40, layers: 10 });
  const cfg = loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: 100 } } as never });
  const summary = await buildReport(cfg);
  try {
    await withChromiumPage(async ({ page, errors, requests }) => {
      await page.goto(pathToFileURL(summary.report).href, { waitUntil: "load" });
      const figs = await page.$$eval("figure.fig img, figure.fig svg", (els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect();
          const img = e as HTMLImageElement;
          return { w: r.width, h: r.height, complete: img.complete ?? true, natural: img.naturalWidth ?? 1 };
        }),
      );
      assert.equal(figs.length, 7);
      for (const f of figs) {
        assert.ok(f.w > 300 && f.h > 150, JSON.stringify(f));
        assert.ok(f.complete && f.natural > 0, `figure failed to decode: ${JSON.stringify(f)}`);
      }
      assert.equal(await page.locator(".ex").count(), 20);
      assert.ok((await page.locator("#tables table").count()) >= 6);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], "the report must be self-contained");
      const shots = mkdtempSync(join(tmpdir(), "sempress-shot-"));
      await page.screenshot({ path: join(shots, "report.png"), fullPage: true });
      await page.screenshot({ path: join(shots, "report_top.png") });
      process.stderr.write(`report screenshot: ${join(shots, "report.png")}\n`);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
