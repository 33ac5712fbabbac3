/**
 * DEMO RULE "demo_rule_v1" — NOT model output and NOT a judgement of the prompt. It answers a
 * validation request offline from a fixed hash of its custom_id so the default profile can run end to
 * end without an API key: X is always reported best; ambiguity and naturalness scores are drawn from
 * the hash so about a third of the candidates fail acceptance and the funnel has something to count.
 * Every reply it makes carries `"_demo": true` and says so in `comments`.
 */
import { createHash } from "node:crypto";
import type { ValidationReply } from "../../schemas.ts";
import type { OutputLine } from "../batch/output.ts";
import type { BatchRequestLine } from "../batch/request.ts";
import { VALIDATION_MARKERS } from "../validate.ts";

export const DEMO_RULE = "demo_rule_v1";

function hashByte(s: string, i: number): number {
  return createHash("sha256").update(s).digest()[i];
}

export function demoValidationReply(req: BatchRequestLine): ValidationReply | null {
  const input = req.body.input;
  const target = VALIDATION_MARKERS.target.exec(input)?.[1];
  if (!target) return null;
  const id = req.custom_id.replace(/#retry$/, "");
  return {
    is_one_word_answer_enforced: true,
    best_one_word_answer: target,
    top3_one_word_answers: [target],
    is_X_best: true,
    ambiguity_score: hashByte(id, 0) % 5,
    leaks_answer: false,
    naturalness_score: 6 + (hashByte(id, 1) % 5),
    comments: `DEMO RULE ${DEMO_RULE}: hash-derived scores, not a judgement`,
  };
}

/** The reply as a Batch API output line, marked `_demo`. */
export function demoValidationLine(req: BatchRequestLine): OutputLine | null {
  const reply = demoValidationReply(req);
  if (!reply) return null;
  return {
    custom_id: req.custom_id,
    _demo: true,
    response: {
      status_code: 200,
      body: { status: "completed", output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: JSON.stringify(reply) }] }] },
    },
    error: null,
  };
}
