import { strict as assert } from "node:assert";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildBatchRequest } from "../../../src/dataset/batch/request.ts";
import { ChatJournal, journalAnswers, requestSha, type AnswerLine } from "../../../src/dataset/llm/chatJournal.ts";
import { answerLine } from "../../../src/dataset/llm/chatOutput.ts";
import { parseBatchOutput } from "../../../src/dataset/batch/output.ts";
import { scratchRoots } from "../helpers.ts";

const root = scratchRoots();
const file = () => join(root("journal"), "chat_validate.p0.jsonl");

const S = { model: "m", maxOutputTokens: 50 };
const req = (id: string, prompt = "json please") => buildBatchRequest(id, prompt, S);
function answer(id: string, sha: string, text = '{"ok":true}'): AnswerLine {
  return { t: "answer", id, sha, attempt: 0, at: "2026-01-01T00:00:00Z", ms: 5, completion: { id: "c1", model: "served", choices: [{ message: { content: text }, finish_reason: "stop" }] } };
}

test("when a journal is reopened then its answers are there, keyed by id and the exact request", () => {
  const f = file();
  const a = req("val:a");
  const j = new ChatJournal(f);
  j.append({ t: "request", id: "val:a", sha: requestSha(a), attempt: 0, at: "x", body: {} });
  j.append(answer("val:a", requestSha(a)));
  j.close();
  const k = new ChatJournal(f);
  assert.equal(k.answer(a, requestSha(a))?.completion.model, "served");
  // The same id with a different prompt is a different request: not answered.
  const changed = req("val:a", "json, but reworded");
  assert.equal(k.answer(changed, requestSha(changed)), undefined);
  k.close();
});

test("when a kill left half a line at the end then it is dropped and appends go on from a whole line", () => {
  const f = file();
  const a = req("val:a");
  const j = new ChatJournal(f);
  j.append(answer("val:a", requestSha(a)));
  j.close();
  appendFileSync(f, '{"t":"answer","id":"val:b","sha":"ab');
  const k = new ChatJournal(f);
  assert.equal(k.answers.length, 1);
  k.append(answer("val:c", "cc"));
  k.close();
  assert.deepEqual(journalAnswers(f).map((l) => l.id), ["val:a", "val:c"]);
  assert.ok(readFileSync(f, "utf8").endsWith("}\n"));
});

test("when a fresh build starts then the previous journal is moved aside, not read", () => {
  const f = file();
  const j = new ChatJournal(f);
  j.append(answer("val:a", "s"));
  j.close();
  ChatJournal.startFresh(f);
  assert.ok(!existsSync(f));
  assert.equal(journalAnswers(f.replace(/\.jsonl$/, ".prev.jsonl")).length, 1);
  assert.equal(new ChatJournal(f).answers.length, 0);
});

test("when an answer becomes an output line then the runner reads its text, and a cut-off reply is marked incomplete", () => {
  const a = answerLine(answer("val:a", "s", '{"x":1}'));
  assert.deepEqual(parseBatchOutput(["val:a"], [a]), [{ custom_id: "val:a", text: '{"x":1}', error: null }]);
  const cut = answer("val:b", "s", '{"x":');
  cut.completion.choices[0].finish_reason = "length";
  assert.equal((answerLine(cut).response!.body as { status: string }).status, "incomplete");
});
