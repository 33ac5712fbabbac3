/**
 * Step 7: P0 of every accepted candidate through the injected probe, in chunks appended to
 * probe.jsonl so an interrupted probe resumes where it stopped.
 */
import { existsSync, renameSync } from "node:fs";
import { readJsonl, appendJsonl, repairJsonlTail, writeFileAtomic } from "../../util/jsonl.ts";
import { log } from "../../log.ts";
import { Progress } from "../../util/progress.ts";
import { Candidate, ProbeRecord, ValidatedCandidate } from "../types.ts";
import type { Step } from "./context.ts";

export const PROBE_CHUNK = 256;

export const probeStep: Step = {
  name: "probe",
  inputs: ["data/logs/steps/filtered.jsonl", "data/logs/steps/validated.jsonl"],
  outputs: (p) => [p.stepFile("probe.jsonl")],
  async run({ paths, probe }) {
    const accepted = new Set(readJsonl(paths.stepFile("validated.jsonl"), ValidatedCandidate).filter((v) => v.accepted).map((v) => v.candidate_id));
    const items = readJsonl(paths.stepFile("filtered.jsonl"), Candidate).filter((c) => accepted.has(c.candidate_id));
    const partial = paths.stepFile("probe.partial.jsonl");
    repairJsonlTail(partial);
    const done = new Set(readJsonl(partial, ProbeRecord).map((r) => r.candidate_id));
    const todo = items.filter((c) => !done.has(c.candidate_id));
    if (done.size) log().info({ done: done.size, todo: todo.length }, "probe: resuming");
    const bar = new Progress("P0 probe", items.length, items.length - todo.length);
    for (let i = 0; i < todo.length; i += PROBE_CHUNK) {
      const chunk = todo.slice(i, i + PROBE_CHUNK);
      const res = await probe(chunk.map((c) => ({ candidate_id: c.candidate_id, question_text: c.question_text, target_word: c.target_word })));
      appendJsonl(partial, chunk.map((c, j) => ({ candidate_id: c.candidate_id, p0: res[j].p0, p0_plain: res[j].p0_plain })));
      bar.tick(chunk.length);
    }
    bar.stop();
    if (!existsSync(partial)) writeFileAtomic(partial, "");
    renameSync(partial, paths.stepFile("probe.jsonl"));
    return { probed: items.length, probe: probe.probeName ?? "custom" };
  },
};
