/**
 * Turns the hand-written demo replies (data/replay/demo/source/handwritten.json) into Batch API
 * output lines (data/replay/demo/generation.jsonl) that the replay provider reads. Every line is
 * marked `"_demo": true` and its body's model is "hand-written-demo": these are NOT model outputs.
 *
 *   node --import tsx scripts/make_demo_replay.ts
 */
import { readFileSync } from "node:fs";
import { writeJsonl } from "../src/util/jsonl.ts";

const DIR = "data/replay/demo";
const src = JSON.parse(readFileSync(`${DIR}/source/handwritten.json`, "utf8")) as {
  commonsense: Record<string, [string, string][]>;
  creative: Record<string, string[]>;
  ood: Record<string, [string, string][]>;
};

function line(customId: string, reply: unknown, n: number) {
  return {
    _demo: true,
    id: `demo_req_${n}`,
    custom_id: customId,
    response: {
      status_code: 200,
      request_id: `demo_${n}`,
      body: {
        id: `demo_resp_${n}`,
        object: "response",
        status: "completed",
        model: "hand-written-demo",
        output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: JSON.stringify(reply) }] }],
      },
    },
    error: null,
  };
}

const lines: unknown[] = [];
for (const [relation, items] of Object.entries(src.commonsense)) {
  lines.push(line(`gen:commonsense:${relation}:0`, { items: items.map(([subject, target_word]) => ({ subject, relation, target_word })) }, lines.length));
}
for (const [target, stories] of Object.entries(src.creative)) {
  lines.push(line(`gen:creative:${target}`, { items: stories.map((microstory) => ({ microstory, target_word: target })) }, lines.length));
}
for (const [target, items] of Object.entries(src.ood)) {
  lines.push(line(`gen:ood:${target}`, { items: items.map(([context, style]) => ({ context, style, target_word: target })) }, lines.length));
}
writeJsonl(`${DIR}/generation.jsonl`, lines);
process.stderr.write(`wrote ${DIR}/generation.jsonl: ${lines.length} demo reply lines\n`);
