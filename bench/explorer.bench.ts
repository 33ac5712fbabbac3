/**
 * The report and its unit explorer at paper shape, in headless Chromium: a synthetic run of 2,500
 * prompts × 2 conditions × 16 samples (28 layers, attention, logit lens, patching; samples ≈ 10 tokens
 * of text; 24 S(X) sequences per set, as the tiny real run has), built with `buildReport`, then:
 *  - the size of assets/report.html and assets/explorer.html;
 *  - time to open each page (navigation start → the explorer's table rendered, or → report `load`),
 *    median over fresh pages, each in a new browser profile;
 *  - time to open one unit of the last chunk (parse its chunk, render the detail).
 * Needs Chromium (/usr/bin/chromium or SEMPRESS_CHROMIUM). Options after `--`: --prompts N (2500)
 * --samples N (16) --layers N (28) --B N (bootstrap resamples of the report's tables, 200) --repeat N (3).
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { dataPath, loadConfig } from "../src/config.ts";
import { buildReport } from "../src/report/build.ts";
import { writeExplorer } from "../src/report/explorer/index.ts";
import { loadRunData } from "../src/report/load.ts";
import { withChromiumPage } from "../test/fixtures/chromium.ts";
import { CHROMIUM } from "../test/fixtures/requirements.ts";
import { makeFixtureRoot } from "../test/report/fixtures.ts";
import { writeUnitFixtures } from "../test/report/explorerFixtures.ts";
import { arg, defineBench, stats } from "./harness.ts";

/** Sample texts of a real length (≈ 10 tokens): the fixture's one-word texts with a tail after the word. */
function lengthenSamples(root: string): void {
  const file = join(root, "runs/detection_mapping.jsonl");
  const tail = ", which is the word that best fits the blank";
  const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => {
    const d = JSON.parse(l) as { text: string };
    return JSON.stringify({ ...d, text: d.text + tail });
  });
  writeFileSync(file, lines.join("\n") + "\n");
}

const MB = 1024 * 1024;

export default defineBench({
  name: "explorer",
  description: "report.html + explorer.html at paper shape: size on disk and time to open in headless Chromium",
  async run(ctx) {
    const opt = (name: string, dflt: number) => Number(arg(ctx.argv, name, String(dflt)));
    const [prompts, samples, layers, B, repeat] = [opt("prompts", 2500), opt("samples", 16), opt("layers", 28), opt("B", 200), opt("repeat", 3)];
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set SEMPRESS_CHROMIUM`);
    let t0 = performance.now();
    const root = makeFixtureRoot({ prompts, samples, layers });
    lengthenSamples(root);
    writeUnitFixtures(root, { sx: 24 });
    ctx.note(`synthetic run: ${prompts} prompts × 2 conditions × ${samples} samples, ${layers} layers, in ${((performance.now() - t0) / 1000).toFixed(1)} s (${root})`);
    try {
      t0 = performance.now();
      const cfg = loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: B } } as never });
      const shape = { prompts, conditions: 2, samples, layers };
      let report: string | null = null;
      const explorer = dataPath(cfg, "assets/explorer.html");
      try {
        report = (await buildReport(cfg)).report;
        ctx.emit({ name: "report_build", value: (performance.now() - t0) / 1000, unit: "s", B, prompts });
        ctx.emit({ name: "report_html_size", value: statSync(report).size / MB, unit: "MiB", ...shape });
      } catch (e) {
        // The explorer does not depend on the report's tables: measure it even when they fail.
        ctx.note(`report build FAILED (${(e as Error).message}); measuring the explorer alone`);
        t0 = performance.now();
        writeExplorer(loadRunData(cfg), explorer);
        ctx.emit({ name: "explorer_build", value: (performance.now() - t0) / 1000, unit: "s", prompts });
      }
      ctx.emit({ name: "explorer_html_size", value: statSync(explorer).size / MB, unit: "MiB", ...shape });

      const explorerOpen: number[] = [];
      const explorerWall: number[] = [];
      const unitOpen: number[] = [];
      const reportOpen: number[] = [];
      for (let i = 0; i < repeat; i++) {
        await withChromiumPage(async ({ page, errors }) => {
          const w0 = performance.now();
          await page.goto(pathToFileURL(explorer).href, { waitUntil: "load" });
          await page.waitForFunction(() => (window as unknown as { sempressExplorer?: unknown }).sempressExplorer !== undefined);
          explorerWall.push(performance.now() - w0);
          // performance.now() counts from the navigation's start: the page's own time to a usable table.
          const r = await page.evaluate(() => {
            const ex = (window as unknown as { sempressExplorer: { ready: number; units: number; open(k: string): boolean } }).sempressExplorer;
            const rows = JSON.parse(document.getElementById("explorer-index")!.textContent!).rows as { k: string }[];
            const t = performance.now();
            const ok = ex.open(rows[rows.length - 1].k);
            return { ready: ex.ready, units: ex.units, unit: performance.now() - t, ok, shown: document.querySelectorAll("#units tbody tr").length };
          });
          if (!r.ok || r.units !== 2 * prompts || errors.length) throw new Error(`explorer: ${JSON.stringify(r)} ${errors.join("; ")}`);
          explorerOpen.push(r.ready);
          unitOpen.push(r.unit);
        });
        if (report) {
          const url = pathToFileURL(report).href;
          await withChromiumPage(async ({ page, errors }) => {
            await page.goto(url, { waitUntil: "load" });
            reportOpen.push(await page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd));
            if (errors.length) throw new Error(`report: ${errors.join("; ")}`);
          });
        }
      }
      ctx.emit({ name: "explorer_open_to_table", value: stats(explorerOpen).median, unit: "ms", n: repeat, max: Math.max(...explorerOpen) });
      ctx.emit({ name: "explorer_open_wall", value: stats(explorerWall).median, unit: "ms", n: repeat, max: Math.max(...explorerWall), note: "playwright goto → table ready, as the test driver sees it" });
      ctx.emit({ name: "explorer_open_unit_last_chunk", value: stats(unitOpen).median, unit: "ms", n: repeat });
      if (reportOpen.length) ctx.emit({ name: "report_open_to_load", value: stats(reportOpen).median, unit: "ms", n: repeat, max: Math.max(...reportOpen) });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});
