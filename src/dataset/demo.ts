/**
 * Demo provenance, in one place: a prompt is demo material when its candidate came from the bundled
 * hand-written replies (source `replay_demo`) or its validation reply was made by the DEMO RULE
 * (llm/demoResponder.ts) instead of a model. The run's identity and the report's banner both ask here.
 */
import type { PromptRecord } from "../schemas.ts";

/** Source label of candidates generated from the bundled demo replies. */
export const DEMO_SOURCE = "replay_demo";

export function isDemoGenerated(p: Pick<PromptRecord, "source">): boolean {
  return p.source === DEMO_SOURCE;
}

export function isDemoJudged(p: Pick<PromptRecord, "validation">): boolean {
  return p.validation.comments.includes("DEMO RULE"); // llm/demoResponder.ts starts every comment so
}

/** data/validated/report.json's own record (`llm.demo`, written by the dataset build). */
export function reportSaysDemo(report: unknown): boolean {
  const llm = (report as { llm?: { demo?: unknown } } | null)?.llm;
  return llm?.demo === true;
}
