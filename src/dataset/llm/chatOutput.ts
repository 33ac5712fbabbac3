/**
 * Chat replies in the Batch API's output-line shape, so the runner's parsing, retry and audit files
 * (responses_*.jsonl) work unchanged, and a later build can replay a chat build's logs.
 */
import type { OutputLine } from "../batch/output.ts";
import type { AnswerLine } from "./chatJournal.ts";

export function answerLine(a: AnswerLine): OutputLine {
  const c = a.completion;
  const choice = c.choices[0];
  const truncated = choice.finish_reason === "length";
  return {
    custom_id: a.id,
    response: {
      status_code: 200,
      body: {
        id: c.id ?? null,
        object: "response",
        status: truncated ? "incomplete" : "completed",
        incomplete_details: truncated ? { reason: "max_output_tokens" } : null,
        model: c.model,
        output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: choice.message.content ?? "" }] }],
        usage: c.usage ?? null,
        _chat: { attempt: a.attempt, ms: a.ms, finish_reason: choice.finish_reason ?? null },
      },
    },
    error: null,
  };
}

/** A request the server answered with a definite refusal (e.g. HTTP 400 on its content). */
export function failureLine(customId: string, status: number | null, message: string): OutputLine {
  return {
    custom_id: customId,
    response: { status_code: status ?? 500, body: { error: { message, type: "chat_request_failed" } } },
    error: null,
  };
}
