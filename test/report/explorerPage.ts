/**
 * Driving an open explorer page in the browser tests: search a prompt id, open one of its units, and
 * check that every sample shows X marked exactly at the span the detector recorded; and reading the
 * unit details a page embeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { DetectionRecord } from "../../src/schemas.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import type { UnitDetail } from "../../src/report/explorer/model.ts";

/** The unit details of every chunk embedded in an explorer page, parsed as the page parses them. */
export function embeddedDetails(html: string): UnitDetail[] {
  const out: UnitDetail[] = [];
  for (const m of html.matchAll(/<script type="application\/json" id="chunk-(\d+)">([\s\S]*?)<\/script>/g)) out.push(...(JSON.parse(m[2]) as UnitDetail[]));
  return out;
}

/** A negative-prompt sample of the run that contains X (the detector found a match). */
export function violatingSample(root: string): DetectionRecord {
  const d = readJsonl(join(root, "runs/detection_mapping.jsonl"), DetectionRecord).find((r) => r.condition === "negative" && r.present && r.matches.length > 0);
  assert.ok(d, `no negative sample with X in ${root}`);
  return d;
}

/** Types the prompt id into the search box and opens the unit (prompt, condition) from the table. */
export async function searchAndOpen(page: Page, promptId: string, condition: string): Promise<void> {
  await page.fill("#q", promptId);
  const keys = await page.$$eval("#units tbody tr", (trs) => trs.map((t) => t.getAttribute("data-key")));
  assert.deepEqual([...keys].sort(), [`${promptId}|baseline`, `${promptId}|negative`], "search leaves the prompt's two units");
  await page.click(`#units tbody tr[data-key="${promptId}|${condition}"]`);
  await page.waitForSelector(`#detail[data-key="${promptId}|${condition}"]`, { state: "visible" });
}

/** Every sample of the open unit: its <mark>s are the detector's matches, at its characters and tokens. */
export async function assertSamplesMarked(page: Page, all: readonly DetectionRecord[], promptId: string, condition: string): Promise<void> {
  const dets = all.filter((d) => d.prompt_id === promptId && d.condition === condition).sort((a, b) => a.sample_index! - b.sample_index!);
  const shown = await page.$$eval("#detail ol.samples li", (lis) =>
    lis.map((li) => ({
      i: Number(li.getAttribute("data-sample")),
      text: li.textContent,
      marks: [...li.querySelectorAll("mark")].map((m) => ({
        text: m.textContent,
        cs: Number(m.getAttribute("data-char-start")),
        ce: Number(m.getAttribute("data-char-end")),
        ts: m.getAttribute("data-token-start"),
        te: m.getAttribute("data-token-end"),
        // Where the mark starts in the shown text: the length of everything before it.
        before: (() => {
          let n = 0;
          for (let c = m.previousSibling; c; c = c.previousSibling) n += (c.textContent ?? "").length;
          return n;
        })(),
      })),
    })),
  );
  assert.equal(shown.length, dets.length);
  let marked = 0;
  shown.forEach((s, j) => {
    const d = dets[j];
    assert.equal(s.i, d.sample_index);
    assert.equal(s.text, d.text, "the sample's text is shown whole");
    assert.deepEqual(
      s.marks.map((m) => [m.text, m.cs, m.ce, m.before, m.ts, m.te]),
      d.matches.map((m) => [d.text.slice(m.char_start, m.char_end), m.char_start, m.char_end, m.char_start, String(m.token_start), String(m.token_end)]),
      `sample ${d.sample_index}`,
    );
    marked += s.marks.length;
  });
  assert.ok(marked > 0, "at least one sample has X marked");
}
