/**
 * Batch output and error files → one raw reply per custom_id. A line's text is the concatenation of
 * `output[].content[]` items of type `output_text` in the Responses body; a non-200 line, an error
 * line, or a request with no line at all becomes an error reply that the runner re-queues once.
 */
import { z } from "zod";

/** What a provider hands back per request before any JSON/schema check. */
export interface RawReply {
  custom_id: string;
  /** Model text (possibly empty), or null when the request produced none. */
  text: string | null;
  /** Why there is no usable text: HTTP/API error, expiry, missing line. null when text came back. */
  error: string | null;
}

const ContentItem = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const OutputItem = z.object({ type: z.string(), content: z.array(ContentItem).optional() }).passthrough();
const ResponseBody = z
  .object({
    status: z.string().optional(),
    output: z.array(OutputItem).optional(),
    incomplete_details: z.object({ reason: z.string().optional() }).nullable().optional(),
    error: z.object({ message: z.string().optional(), code: z.string().nullable().optional() }).nullable().optional(),
  })
  .passthrough();

export const OutputLine = z
  .object({
    id: z.string().optional(),
    custom_id: z.string(),
    response: z.object({ status_code: z.number(), body: z.unknown() }).nullable().optional(),
    error: z.object({ code: z.string().nullable().optional(), message: z.string().nullable().optional() }).nullable().optional(),
  })
  .passthrough();
export type OutputLine = z.infer<typeof OutputLine>;

/** Text of a Responses API body: every output_text piece in order. */
export function responseText(body: unknown): string {
  const b = ResponseBody.safeParse(body);
  if (!b.success) return "";
  const parts: string[] = [];
  for (const item of b.data.output ?? []) {
    for (const c of item.content ?? []) if (c.type === "output_text" && typeof c.text === "string") parts.push(c.text);
  }
  return parts.join("");
}

export function replyFromLine(line: OutputLine): RawReply {
  if (line.error) return { custom_id: line.custom_id, text: null, error: `${line.error.code ?? "error"}: ${line.error.message ?? ""}`.trim() };
  const resp = line.response;
  if (!resp) return { custom_id: line.custom_id, text: null, error: "no response in output line" };
  if (resp.status_code !== 200) {
    const body = ResponseBody.safeParse(resp.body);
    const msg = body.success ? body.data.error?.message : undefined;
    return { custom_id: line.custom_id, text: null, error: `HTTP ${resp.status_code}${msg ? `: ${msg}` : ""}` };
  }
  return { custom_id: line.custom_id, text: responseText(resp.body), error: null };
}

/** Parses JSONL text of output/error files; a line that is not an output line is reported, not fatal. */
export function parseOutputLines(text: string): { lines: OutputLine[]; bad: number } {
  const lines: OutputLine[] = [];
  let bad = 0;
  for (const l of text.split("\n")) {
    if (l.trim() === "") continue;
    try {
      const r = OutputLine.safeParse(JSON.parse(l));
      if (r.success) lines.push(r.data);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { lines, bad };
}

/**
 * Joins output lines to the requested ids: one reply per requested custom_id, in request order.
 * A request with no line gets `missingError` (e.g. "batch_expired" for an expired batch).
 */
export function parseBatchOutput(customIds: readonly string[], lines: readonly OutputLine[], missingError = "no output line for request"): RawReply[] {
  const byId = new Map<string, OutputLine>();
  for (const l of lines) {
    // A success line wins over an error line for the same id.
    const prev = byId.get(l.custom_id);
    if (!prev || (prev.error && !l.error)) byId.set(l.custom_id, l);
  }
  return customIds.map((id) => {
    const l = byId.get(id);
    return l ? replyFromLine(l) : { custom_id: id, text: null, error: missingError };
  });
}
