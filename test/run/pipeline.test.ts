import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { DEFAULT_PATCH_LIMIT, DEFAULT_PIPELINE_LIMIT, pipelineForces, pipelineLimits } from "../../src/run/pipeline.ts";
import { parseOnly } from "../../src/cli/commands/analyze.ts";
import { register as registerRun } from "../../src/cli/commands/run.ts";
import { register as registerAnalyze } from "../../src/cli/commands/analyze.ts";
import { register as registerPipeline } from "../../src/cli/commands/pipeline.ts";

test("when the profile is default then the pipeline caps prompts and patches; paper runs everything", () => {
  assert.deepEqual(pipelineLimits({ profile: "default" }, {}), { limit: DEFAULT_PIPELINE_LIMIT, patchLimit: DEFAULT_PATCH_LIMIT });
  assert.deepEqual(pipelineLimits({ profile: "paper" }, {}), { limit: undefined, patchLimit: undefined });
  assert.deepEqual(pipelineLimits({ profile: "default" }, { limit: 5, patchLimit: null }), { limit: 5, patchLimit: undefined });
});

test("when --only lists analyses then they are parsed, and unknown names are refused", () => {
  assert.deepEqual(parseOnly("attention,lens"), ["attention", "lens"]);
  assert.deepEqual(parseOnly("patch", ["lens"]), ["lens", "patch"]);
  assert.throws(() => parseOnly("attn"), /expected one of attention, lens, decompose, patch/);
});

test("when the commands are registered then run, analyze and pipeline exist with their flags", () => {
  const p = new Command("sempress");
  registerRun(p);
  registerAnalyze(p);
  registerPipeline(p);
  const run = p.commands.find((c) => c.name() === "run")!;
  assert.deepEqual(
    ["--prompts", "--model", "--limit", "--resume", "--force", "--trace"].filter((f) => !run.options.some((o) => o.long === f)),
    [],
  );
  assert.ok(p.commands.find((c) => c.name() === "analyze")!.options.some((o) => o.long === "--only"));
  assert.ok(p.commands.find((c) => c.name() === "pipeline"));
});

test("when --limit is not a positive integer then the run command refuses it", async () => {
  const p = new Command("sempress").exitOverride();
  registerRun(p);
  await assert.rejects(p.parseAsync(["node", "sempress", "run", "--limit", "0"]), /--limit must be a positive integer/);
});

test("the pipeline's demo subset takes prompts round-robin over categories, in file order", async () => {
  const { stratifiedSubset } = await import("../../src/run/prompts.ts");
  const mk = (id: string, category: string) => ({ prompt_id: id, category, bin: 0 }) as never;
  const all = [mk("i1", "idioms"), mk("i2", "idioms"), mk("i3", "idioms"), mk("f1", "facts"), mk("c1", "creative")];
  assert.deepEqual(stratifiedSubset(all, 4).map((p: { prompt_id: string }) => p.prompt_id), ["i1", "f1", "c1", "i2"]);
  assert.equal(stratifiedSubset(all, 99).length, 5);
});

test("the pipeline's demo subset reaches every P0 bin, not only the lowest bins that selection writes first", async () => {
  const { stratifiedSubset } = await import("../../src/run/prompts.ts");
  // selection writes each category bin-ascending: a category-only round-robin would take bins 0 and 1 here
  const all = ["idioms", "facts"].flatMap((c) => [0, 0, 1, 1, 2, 2, 3, 4].map((b, i) => ({ prompt_id: `${c}${i}`, category: c, bin: b }) as never));
  const got = stratifiedSubset(all, 10) as unknown as { category: string; bin: number }[];
  assert.deepEqual(got.map((p) => p.bin).sort(), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  // bins before categories: many categories in bin 0 do not crowd out the sparse top bin
  const many = [
    ...["idioms", "facts", "commonsense", "creative", "ood"].flatMap((c) => [0, 0, 0].map((b, i) => ({ prompt_id: `${c}${i}`, category: c, bin: b }))),
    ...[4, 4, 4].map((b, i) => ({ prompt_id: `top${i}`, category: "facts", bin: b })),
  ] as never[];
  const picked = stratifiedSubset(many, 6) as unknown as { bin: number; category: string }[];
  assert.equal(picked.filter((p) => p.bin === 4).length, 3);
  assert.deepEqual(picked.filter((p) => p.bin === 0).map((p) => p.category), ["idioms", "facts", "commonsense"]);
});

test("when a fresh pipeline rebuilt the dataset into another file then its run starts a new run directory; a resume never does", () => {
  const dataset = { field: "dataset", run: "a", now: "b" };
  const model = { field: "model", run: "a", now: "b" };
  assert.equal(pipelineForces({}, dataset), true);
  assert.equal(pipelineForces({ resume: true }, dataset), false, "a resume over another dataset is refused by the run stage");
  assert.equal(pipelineForces({}, model), false, "another model is refused, not moved aside");
  assert.equal(pipelineForces({}, null), false);
  assert.equal(pipelineForces({ force: true }, null), true);
});

test("when pipeline is registered then it takes --force", () => {
  const p = new Command("sempress");
  registerPipeline(p);
  assert.ok(p.commands.find((c) => c.name() === "pipeline")!.options.some((o) => o.long === "--force"));
});
