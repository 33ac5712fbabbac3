import { test } from "node:test";
import assert from "node:assert/strict";
import { attentionRows, massesOf, routingMetrics, spanMass } from "../../src/metrics/attention.ts";
import type { Spans } from "../../src/metrics/spans.ts";

const spans: Spans = { instruction: [0, 5], negation: [0, 2], target: [3, 4], question: [5, 8] };
const ROW = [0.125, 0.125, 0, 0.25, 0, 0.125, 0.125, 0.125, 0.125];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-8, `${a} != ${b}`);

test("when masses are summed then each span adds exactly its own positions", () => {
  assert.deepEqual(massesOf(ROW, spans), { instruction: 0.5, negation: 0.25, target: 0.25, question: 0.375 });
  assert.equal(spanMass(ROW, [8, 20]), 0.125);
});

test("when the row is hand-made then IAR, NF, TMF and PI have their exact values", () => {
  const m = routingMetrics(massesOf(ROW, spans));
  assert.equal(m.iar, 0.5 / (0.5 + 0.375 + 1e-9));
  assert.equal(m.nf, 0.25 / (0.5 + 1e-9));
  assert.equal(m.tmf, 0.25 / (0.5 + 1e-9));
  assert.equal(m.pi, 0);
  close(m.nf, 0.5);
});

test("when the instruction gets no attention then epsilon keeps ratios finite", () => {
  const m = routingMetrics({ instruction: 0, negation: 0, target: 0, question: 0.4 });
  assert.deepEqual(m, { iar: 0, nf: 0, tmf: 0, pi: 0 });
  const m2 = routingMetrics({ instruction: 0, negation: 0, target: 1e-9, question: 0 }, 1e-9);
  assert.equal(m2.tmf, 1);
});

test("when a layer has two heads then the layer row uses head-averaged masses and global averages all heads", () => {
  // head 0 looks only at the negation, head 1 only at the question.
  const h0 = [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0];
  const h1 = [0, 0, 0, 0, 0, 1, 0, 0, 0];
  const rowsByLayer = [
    [h0, h1],
    [ROW, ROW],
  ];
  const out = attentionRows(
    { prompt_id: "p", condition: "negative", outcome: "failure" },
    { nLayers: 2, nHeads: 2, row: (l, h) => rowsByLayer[l][h] },
    spans,
  );
  assert.equal(out.length, 4 + 2 + 1);
  const head0 = out.find((r) => r.scope === "head" && r.layer === 0 && r.head === 0)!;
  close(head0.nf, 1);
  close(head0.iar, 1);
  const head1 = out.find((r) => r.scope === "head" && r.layer === 0 && r.head === 1)!;
  assert.equal(head1.iar, 0);
  assert.equal(head1.nf, 0);
  const layer0 = out.find((r) => r.scope === "layer" && r.layer === 0)!;
  // masses: instr 0.5, neg 0.5, target 0, question 0.5
  close(layer0.iar, 0.5);
  close(layer0.nf, 1);
  close(layer0.pi, -1);
  assert.equal(layer0.head, -1);
  const g = out.find((r) => r.scope === "global")!;
  // mean over 4 heads: instr (1 + 0 + .5 + .5)/4 = .5, neg (1+0+.25+.25)/4 = .375, tgt .125, q (0+1+.375+.375)/4 = .4375
  close(g.iar, 0.5 / 0.9375);
  close(g.nf, 0.75);
  close(g.tmf, 0.25);
  close(g.pi, -0.5);
  assert.deepEqual([g.layer, g.head], [-1, -1]);
});
