/**
 * One line of a Batch API input file for the Responses endpoint, built the one way the design fixes:
 * JSON-object output, no reasoning effort, low verbosity, stored, bounded output. json_object mode
 * requires the word "json" in the prompt; every prompt here also carries an example reply.
 */
import { z } from "zod";
import { BatchError } from "../../errors.ts";

export const RESPONSES_ENDPOINT = "/v1/responses" as const;

/** The strict prefix a re-queued request gets after its first reply could not be used. */
export const STRICT_PREFIX = "Return ONLY valid JSON: one JSON object, no prose, no code fences, nothing before or after it.\n\n";

export const ResponsesBody = z.object({
  model: z.string(),
  input: z.string(),
  text: z.object({ format: z.object({ type: z.literal("json_object") }), verbosity: z.literal("low") }),
  reasoning: z.object({ effort: z.literal("none"), summary: z.literal("auto") }),
  store: z.literal(true),
  max_output_tokens: z.number().int().positive(),
});
export type ResponsesBody = z.infer<typeof ResponsesBody>;

export const BatchRequestLine = z.object({
  custom_id: z.string().min(1),
  method: z.literal("POST"),
  url: z.literal(RESPONSES_ENDPOINT),
  body: ResponsesBody,
});
export type BatchRequestLine = z.infer<typeof BatchRequestLine>;

export interface RequestSettings {
  /** e.g. gpt-5.2-2025-12-11 */
  model: string;
  maxOutputTokens: number;
}

/** Builds one request line; refuses a prompt without the word "json" (the API would reject it). */
export function buildBatchRequest(customId: string, prompt: string, s: RequestSettings): BatchRequestLine {
  if (!/json/i.test(prompt)) throw new BatchError(`request ${customId}: prompt must mention "json" for text.format json_object`, "batch_bad_request");
  return {
    custom_id: customId,
    method: "POST",
    url: RESPONSES_ENDPOINT,
    body: {
      model: s.model,
      input: prompt,
      text: { format: { type: "json_object" }, verbosity: "low" },
      reasoning: { effort: "none", summary: "auto" },
      store: true,
      max_output_tokens: s.maxOutputTokens,
    },
  };
}

/** custom_id of the one retry of a request. */
export function retryId(customId: string): string {
  return `${customId}#retry`;
}

export function originalId(customId: string): string {
  return customId.endsWith("#retry") ? customId.slice(0, -"#retry".length) : customId;
}

/** The stricter re-queue of a request whose reply was unusable. */
export function strictRetry(req: BatchRequestLine): BatchRequestLine {
  return { ...req, custom_id: retryId(req.custom_id), body: { ...req.body, input: STRICT_PREFIX + req.body.input } };
}
