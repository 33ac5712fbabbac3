/** The one way a build step sends prompts to the LLM: a batch job with the configured model settings. */
import type { z } from "zod";
import { buildBatchRequest } from "../batch/request.ts";
import { runJob, type JobResult } from "../batch/runner.ts";
import type { StepContext } from "./context.ts";

/** A request per `[custom_id, prompt]`, each reply checked against `schema`. */
export function runStepJob<T>(ctx: StepContext, key: string, prompts: readonly (readonly [string, string])[], schema: z.ZodType<T>): Promise<JobResult<T>> {
  const settings = { model: ctx.cfg.llm.model, maxOutputTokens: ctx.cfg.llm.maxOutputTokens };
  const requests = prompts.map(([customId, prompt]) => buildBatchRequest(customId, prompt, settings));
  return runJob({ provider: ctx.provider, ledger: ctx.ledger, logsDir: ctx.paths.logs, limits: ctx.limits }, key, requests, schema);
}
