/**
 * A deterministic stand-in for GPT-5.2 behind the local Batch API server: answers sempress's
 * generation requests with synthetic, well-formed items and validation requests with a hash rule
 * (about 90% accepted). For tests only; nothing here is meant to look like real model output.
 */
import { createHash } from "node:crypto";
import type { Reply, RequestLine } from "./openaiServer.ts";

/** Letters-only code of a number: 0 → "ba", 1 → "bb", … (never a real short English word start). */
export function letters(n: number): string {
  let s = "";
  let x = n;
  do {
    s = String.fromCharCode(97 + (x % 26)) + s;
    x = Math.floor(x / 26);
  } while (x > 0);
  return `b${s}`;
}

function h(s: string, i = 0): number {
  return createHash("sha256").update(s).digest()[i];
}

function n(req: RequestLine): number {
  return Number(/with (\d+) items/.exec(req.body.input)?.[1] ?? "1");
}

export function generationItems(req: RequestLine): unknown[] {
  const parts = req.custom_id.replace(/#retry$/, "").split(":");
  const cat = parts[1];
  const count = n(req);
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    if (cat === "commonsense") {
      const [rel, chunk] = [parts[2], Number(parts[3])];
      const code = letters(chunk * 10 + i);
      items.push({ subject: `gadget${rel.toLowerCase()}${code}`, relation: rel, target_word: `zq${rel.toLowerCase()}${code}` });
    } else if (cat === "idioms") {
      const code = letters(Number(parts[2]) * 10 + i);
      items.push({ idiom_full: `Once upon a zqidiom${code}`, target_word: `zqidiom${code}` });
    } else if (cat === "facts") {
      const [rel, chunk] = [parts[2], Number(parts[3])];
      const code = letters(chunk * 10 + i);
      items.push({ subject: `Person Zq${code}`, relation: rel, target_word: `zqfact${rel.replace(/_/g, "")}${code}` });
    } else if (cat === "creative") {
      const t = parts[2];
      items.push({ microstory: `The lantern flickered in hall ${i + 1}. At the end of it all, there was ${t}.`, target_word: t });
    } else if (cat === "ood") {
      const t = parts[2];
      items.push({ context: `Per clause ${i + 1} of the lunar protocol, each visitor must bring ${t}.`, style: "protocol", target_word: t });
    }
  }
  return items;
}

export function validationReply(req: RequestLine): Record<string, unknown> {
  const target = /^Intended answer X: (.*)$/m.exec(req.body.input)?.[1] ?? "";
  const id = req.custom_id.replace(/#retry$/, "");
  const reject = h(id, 0) % 10 === 0;
  return {
    is_one_word_answer_enforced: true,
    best_one_word_answer: target,
    top3_one_word_answers: h(id, 1) % 2 ? [target] : [target, "other", "another"],
    is_X_best: !reject,
    ambiguity_score: h(id, 2) % 4,
    leaks_answer: false,
    naturalness_score: 7 + (h(id, 3) % 4),
    comments: "fake model",
  };
}

/** The default deterministic responder. */
export function fakeModel(req: RequestLine): Reply {
  if (req.custom_id.startsWith("gen:")) return { text: JSON.stringify({ items: generationItems(req) }) };
  if (req.custom_id.startsWith("val:")) return { text: JSON.stringify(validationReply(req)) };
  return { error: { code: "unknown", message: `no fake reply for ${req.custom_id}` } };
}
