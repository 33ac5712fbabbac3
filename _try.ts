import { makeFixtureRoot } from "/work/main/test/report/fixtures.ts";
import { loadConfig } from "/work/main/src/config.ts";
import { buildReport } from "/work/main/src/report/build.ts";
const root = process.argv[2] ?? makeFixtureRoot({ prompts: Number(process.env.N ?? 60), layers: Number(process.env.L ?? 12) });
const cfg = loadConfig({ flags: { dataRoot: root } as never });
const t = Date.now();
const s = await buildReport(cfg, { now: new Date("2026-02-01T00:00:00Z") });
console.log(JSON.stringify({ root, ms: Date.now() - t, n: s.n_prompts, ex: s.appendix_examples.length }));
