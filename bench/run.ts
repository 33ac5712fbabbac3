/**
 * `make bench` entry point: runs every `bench/*.bench.ts` (or only those named on the command line,
 * `node --import tsx bench/run.ts bridge`), one JSON line per measurement on stdout, a table on stderr.
 * To add a benchmark, drop a `<name>.bench.ts` here whose default export is `defineBench({...})`.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Bench, Measurement } from "./harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf("--");
  const names = dash >= 0 ? argv.slice(0, dash) : argv;
  const extra = dash >= 0 ? argv.slice(dash + 1) : [];
  const files = readdirSync(HERE)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort();
  const benches: Bench[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(HERE, f)).href)) as { default?: Bench };
    if (!mod.default?.run) throw new Error(`bench/${f}: default export must be defineBench({...})`);
    if (names.length === 0 || names.includes(mod.default.name)) benches.push(mod.default);
  }
  const unknown = names.filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown bench: ${unknown.join(", ")} (have: ${files.map((f) => f.replace(".bench.ts", "")).join(", ")})\n`);
    return 2;
  }
  const all: Measurement[] = [];
  const failed: string[] = [];
  for (const b of benches) {
    process.stderr.write(`# ${b.name}: ${b.description}\n`);
    const t0 = performance.now();
    try {
      await b.run({
        argv: extra,
        note: (msg) => process.stderr.write(`  ${b.name}: ${msg}\n`),
        emit: (m) => {
          const rec = { bench: b.name, ...m } as Measurement;
          all.push(rec);
          process.stdout.write(`${JSON.stringify(rec)}\n`);
        },
      });
      process.stderr.write(`  ${b.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      failed.push(b.name);
      process.stderr.write(`  ${b.name}: FAILED: ${(e as Error)?.stack ?? e}\n`);
    }
  }
  process.stderr.write(`\n${table(all)}\n`);
  if (failed.length) process.stderr.write(`failed: ${failed.join(", ")}\n`);
  return failed.length ? 1 : 0;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function table(ms: Measurement[]): string {
  const rows = [["bench", "measurement", "value", "unit", "n", "note"]];
  for (const m of ms) rows.push([m.bench, m.name, fmt(m.value), m.unit, m.n === undefined ? "" : String(m.n), typeof m.note === "string" ? m.note : ""]);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => r.map((c, i) => (i === 2 || i === 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ") + (j === 0 ? `\n${w.map((x) => "-".repeat(x)).join("  ")}` : "")).join("\n");
}

process.exitCode = await main(process.argv.slice(2));
