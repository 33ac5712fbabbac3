/**
 * assets/report.html: one self-contained page (figures as SVG data URIs, inline CSS, no scripts, no
 * external requests) with the key numbers, the seven figures, the tables, the curated failures and
 * the provenance of the run.
 */
import type { BinSummary } from "./binClaims.ts";
import type { AppendixExample } from "./examples.ts";
import type { RenderedFigure } from "./figures/render.ts";
import { demoBanner, headerFacts, notRecorded } from "./headerHtml.ts";
import { ci, ciPct, esc, fx, pct, table } from "./htmlFormat.ts";
import type { Meta } from "./meta.ts";
import { CSS } from "./style.ts";
import { MIN_BIN_PROMPTS } from "./support.ts";
import type { Tables } from "./tables.ts";

export { esc } from "./htmlFormat.ts";

const SPARSE_TAG = `<span class="tag">sparse: n &lt; ${MIN_BIN_PROMPTS}</span>`;

/** The per-bin sentence: supported bins only; sparse bins named as left out. */
function binSentence(b: BinSummary): string | null {
  const lo = b.lowest_pressure;
  const hi = b.highest_pressure;
  const left = b.sparse_bins.length
    ? ` Not compared (fewer than ${b.min_prompts_per_bin} prompts): ${b.sparse_bins.map((s) => `${esc(s.label)} (n=${s.n_prompts})`).join(", ")}.`
    : "";
  if (!lo) return b.sparse_bins.length ? `No P0 bin has ${b.min_prompts_per_bin} or more prompts, so no per-bin comparison is made.${left}` : null;
  if (!hi) return `Only one P0 bin has ${b.min_prompts_per_bin} or more prompts (${esc(lo.label)}, n=${lo.n_prompts}: ${pct(lo.estimate)}), so bins are not compared.${left}`;
  return (
    `By P0 bin (negative prompt; bins with ≥ ${b.min_prompts_per_bin} prompts): ${pct(lo.estimate)} in ${esc(lo.label)} (n=${lo.n_prompts}) vs ` +
    `${pct(hi.estimate)} in ${esc(hi.label)} (n=${hi.n_prompts}), a difference of ${b.difference === null ? "n/a" : `${(b.difference * 100).toFixed(1)} points`}; ` +
    `highest in ${esc(b.highest_rate!.label)}.${left}`
  );
}


function keyResults(t: Tables): string {
  const lg = t.logistic;
  const items: string[] = [];
  items.push(
    `Logistic fit of per-sample violation on P0: intercept ${ci(lg.intercept, (v) => fx(v, 2))}, slope ${ci(lg.slope, (v) => fx(v, 2))} ` +
      `(${lg.n_prompts} prompts, ${lg.n_samples} samples; prior work: ${lg.prior_work.intercept.toFixed(2)} and ${lg.prior_work.slope.toFixed(2)}).`,
  );
  const r = lg.observed_p0;
  const inside = lg.predicted.filter((p) => p.in_observed_range);
  const outside = lg.predicted.filter((p) => !p.in_observed_range);
  if (r)
    items.push(
      (inside.length
        ? `Predicted violation rate ${inside.map((p) => `at P0 = ${p.p0}: ${ciPct(p)}`).join("; ")}. `
        : "") +
        `The fit covers the observed P0 range ${fx(r.min, 2)}–${fx(r.max, 2)} only` +
        (outside.length ? `; predictions at P0 = ${outside.map((p) => p.p0).join(", ")} would be extrapolation and are not quoted` : "") +
        ` (prior work ≈ ${pct(lg.prior_work.violation_at_p0_0_1, 0)} at 0.1 and ${pct(lg.prior_work.violation_at_p0_0_9, 0)} at 0.9).`,
    );
  const bs = binSentence(t.violation_by_bin_summary);
  if (bs) items.push(bs);
  const vo = t.violation_overall;
  items.push(
    `Samples containing X: ${ciPct(vo.negative.sampled)} under the prohibition vs ${ciPct(vo.baseline.sampled)} without it; ` +
      `greedy answers containing X: ${ciPct(vo.negative.greedy)} vs ${ciPct(vo.baseline.greedy)}.`,
  );
  const s = t.suppression;
  items.push(
    `Relative suppression R = (P0 − P1)/P0: ${ci(s.overall.rel_suppression, (v) => fx(v, 2))} overall; ` +
      `${ci(s.by_outcome.success.rel_suppression, (v) => fx(v, 2))} for greedy successes vs ${ci(s.by_outcome.failure.rel_suppression, (v) => fx(v, 2))} for failures.`,
  );
  if (t.attention.n_prompts > 0)
    items.push(
      `Priming index PI = TMF − NF, failure minus success: ${ci(t.attention.failure_minus_success.pi)}; ` +
        `TMF failure − success: ${ci(t.attention.failure_minus_success.tmf)}; NF: ${ci(t.attention.failure_minus_success.nf)}.`,
    );
  const late = t.patching.by_band.find((b) => b.site === "resid" && b.band === "late");
  const early = t.patching.by_band.find((b) => b.site === "resid" && b.band === "early");
  if (late && early)
    items.push(
      `Residual patching ΔP: early layers ${early.layers.join("–")} ${ci(early.delta_p)}; late layers ${late.layers.join("–")} ${ci(late.delta_p)}.`,
    );
  const ps = t.patching.subset;
  items.push(
    `Patching subset${ps.design_rule ? " (design rule)" : ` (${esc(ps.profile)} profile: ${esc(ps.deviations.join("; "))})`}: ` +
      `T = ${fx(ps.threshold)}; ${ps.n_passed_threshold} of ${ps.n_candidates} prompts pass it; ` +
      (ps.rule_selected_nothing ? "the balanced rule selects nothing" : `the balanced rule selects ${ps.n_selected_by_rule}`) +
      (ps.top_up.added > 0 ? `; the ${esc(ps.profile)} profile's top-up adds ${ps.top_up.added}` : "") +
      `; ${ps.n_patched} patched (<a href="#t-patch-subset">details</a>).`,
  );
  return `<ul class="key">${items.map((i) => `<li>${i}</li>`).join("")}</ul>`;
}

function tablesSection(t: Tables): string {
  const out: string[] = [];
  out.push(`<h3 id="t-bins">Violation rate by P0 bin (both conditions)</h3>`);
  const bins = t.violation_by_bin;
  out.push(
    table(
      ["P0 bin", "prompts", "samples", "negative: sampled", "negative: greedy", "baseline: sampled", "baseline: greedy"],
      bins.negative.map((b, i) => [
        esc(b.label) + (b.sparse && b.n_prompts > 0 ? SPARSE_TAG : ""), String(b.n_prompts), String(b.n_samples), ciPct(b), ciPct(b.greedy), ciPct(bins.baseline[i]), ciPct(bins.baseline[i].greedy),
      ]),
      "",
      (i) => (bins.negative[i].sparse ? "sparse" : ""),
    ),
  );
  out.push(`<p class="sub">Bins with fewer than ${MIN_BIN_PROMPTS} prompts are marked sparse (hollow markers in the figures); their numbers are shown but no per-bin claim uses them.</p>`);
  const lg = t.logistic;
  out.push(`<h3 id="t-logistic">Logistic regression (negative condition, per sample)</h3>`);
  out.push(
    table(
      ["coefficient", "estimate", "Wald SE", "bootstrap 95% CI", "Wald 95% CI", "prior work"],
      (["intercept", "slope"] as const).map((k) => [
        k, fx(lg[k].estimate), fx(lg[k].se), `[${fx(lg[k].ci_low)}, ${fx(lg[k].ci_high)}]`, `[${fx(lg[k].wald_low)}, ${fx(lg[k].wald_high)}]`, fx(lg.prior_work[k], 2),
      ]),
    ),
  );
  out.push(`<p class="sub">Converged: ${lg.converged} (${lg.iterations} Newton steps); bootstrap refits not converged: ${lg.bootstrap_non_converged}; singular resamples (one P0 value, no slope) left out of the CIs: ${lg.bootstrap_singular} of ${lg.bootstrap_B}.</p>`);
  out.push(`<h3 id="t-supp">Suppression by greedy outcome</h3>`);
  const s = t.suppression;
  const sRow = (name: string, e: (typeof s)["overall"]) => [
    name, String(e.n), ci(e.p0), ci(e.p1), ci(e.delta), ci(e.rel_suppression), ci(e.log_ratio, (v) => fx(v, 2)), ciPct(e.share_p1_below_p0),
  ];
  out.push(
    table(["prompts", "n", "P0", "P1", "Δ = P0 − P1", "R = Δ/P0", "L = log P0 − log P1", "P1 &lt; P0"], [
      sRow("all", s.overall), sRow("greedy success", s.by_outcome.success), sRow("greedy failure", s.by_outcome.failure),
      ...s.by_bin.map((b) => sRow(`P0 ${esc(b.label)}${b.sparse && b.n > 0 ? SPARSE_TAG : ""}`, b)),
    ], "", (i) => (i >= 3 && s.by_bin[i - 3].sparse ? "sparse" : "")),
  );
  out.push(`<h3 id="t-types">Outcome types (share of samples)</h3>`);
  const ft = t.failure_types;
  out.push(
    table(["condition", "contains X (violation)", "format failure without X", "clean success", "format adherence"], (["negative", "baseline"] as const).map((c) => [
      c, ciPct(ft[c].violation), ciPct(ft[c].format_failure_without_x), ciPct(ft[c].clean_success), ciPct(ft[c].format_adherence),
    ])),
  );
  out.push(`<p class="sub">Under the baseline prompt "contains X" is the intended answer, not a violation.</p>`);
  if (t.attention.n_prompts > 0) {
    out.push(`<h3 id="t-attn">Attention routing by greedy outcome (negative prompt, decision step)</h3>`);
    const a = t.attention;
    out.push(
      table(["metric", "success", "failure", "failure − success"], (["iar", "nf", "tmf", "pi"] as const).map((m) => [
        m.toUpperCase(), ci(a.by_outcome.success[m]), ci(a.by_outcome.failure[m]), ci(a.failure_minus_success[m]),
      ])),
    );
  }
  out.push(`<h3 id="t-patch-subset">Activation patching: which prompts were patched</h3>`);
  out.push(`<p id="patch-subset">${esc(t.patching.subset.statement)}</p>`);
  if (t.patching.by_band.length) {
    out.push(`<h3 id="t-patch">Activation patching by layer band (${t.patching.n_prompts} prompts, ${t.patching.n_layers} layers)</h3>`);
    out.push(
      table(["site", "band", "layers", "mean ΔP", "next-token flip rate"], t.patching.by_band.map((b) => [
        b.site, b.band, b.layers.join("–"), ci(b.delta_p), ciPct(b.next_token_flip_rate),
      ])),
    );
  }
  if (t.decomposition.by_band.length) {
    out.push(`<h3 id="t-decomp">Attention vs FFN contribution by layer band (sum over the band's layers)</h3>`);
    out.push(
      table(["condition", "outcome", "band", "layers", "attention", "FFN"], t.decomposition.by_band.map((b) => [
        b.condition, b.outcome, b.band, b.layers.join("–"), ci(b.attn), ci(b.ffn),
      ])),
    );
  }
  if (t.logit_lens.final_layer.length) {
    out.push(`<h3 id="t-lens">Logit lens: mass of X at the last layer</h3>`);
    out.push(table(["condition", "outcome", "mass"], t.logit_lens.final_layer.map((r) => [r.condition, r.outcome, ci(r.mass)])));
  }
  return out.join("\n");
}

function markSpan(text: string, span: AppendixExample["span"]): string {
  if (!span) return esc(text);
  return `${esc(text.slice(0, span.char_start))}<mark>${esc(text.slice(span.char_start, span.char_end))}</mark>${esc(text.slice(span.char_end))}`;
}

function exampleCard(e: AppendixExample): string {
  const g = e.attention.global;
  const attn = g
    ? `IAR ${fx(g.iar)} · NF ${fx(g.nf)} · TMF ${fx(g.tmf)} · PI ${fx(g.pi)}` +
      (e.attention.top_tmf_layers.length ? ` · top TMF layers: ${e.attention.top_tmf_layers.map((l) => `${l.layer} (${fx(l.tmf)})`).join(", ")}` : "")
    : "no attention data";
  const span = e.span
    ? `chars ${e.span.char_start}–${e.span.char_end}, tokens ${e.span.token_start ?? "?"}–${e.span.token_end ?? "?"}` +
      (e.span_token_ids ? ` (ids ${e.span_token_ids.join(", ")})` : "") + `, decision step ${e.decision_step}`
    : "no span";
  return `<div class="ex"><h3>${e.rank}. X = “${esc(e.target_word)}” <span class="sub">· ${esc(e.category)} · ${e.source === "greedy" ? "greedy" : `sample ${e.sample_index}`} · <code>${esc(e.prompt_id)}</code></span></h3>
<div class="meta">P0 ${fx(e.p0)} · P1 ${fx(e.p1)} · sampled violation rate ${pct(e.sampled_violation_rate, 0)}</div>
<pre>${esc(e.prompt ?? e.question_text ?? "")}</pre>
<div>Output: <pre>${markSpan(e.output, e.span)}</pre></div>
<div class="meta">Span: ${span}</div>
<div class="meta">Attention at the decision step: ${attn}</div></div>`;
}

function provenance(meta: Meta): string {
  const h = meta.header;
  const rows: string[][] = [
    ["profile", esc(h.profile)],
    ["model", `<code>${esc(meta.model_id ?? "unknown")}</code>`],
    ["model source", esc(h.model_source)],
    ["prompts file (run)", `<code>${esc(h.prompts_file)}</code>`],
    ["dataset LLM provider", esc(h.llm_provider) + (h.llm_replay_dir ? ` (<code>${esc(h.llm_replay_dir)}</code>)` : "")],
    ["demo material", h.demo.any ? `yes: ${h.demo.generated} of ${h.demo.of} prompts generated from demo replies, ${h.demo.judged_by_rule} validated by the DEMO RULE` : "none found"],
    ...Object.entries(meta.model_facts).map(([k, v]) => [esc(k), esc(v)]),
    ["run created", esc(meta.run_created_at ?? "unknown")],
    ["run command", `<code>${esc(meta.run_command ?? "unknown")}</code>`],
    ["config hash (run)", `<code>${esc(meta.run_config_hash ?? "unknown")}</code>`],
    ["config hash (report)", `<code>${esc(meta.report_config_hash)}</code>`],
    ["seeds", esc(JSON.stringify(meta.seeds))],
    ["prompt format", esc(meta.prompt_format ?? "unknown")],
    ["bootstrap", `B = ${meta.bootstrap.B}, seed ${meta.bootstrap.seed}, prompt-level, percentile 95% CIs`],
    ["bin edges", esc(meta.bin_edges.join(", "))],
    ["report generated", esc(meta.report_generated_at)],
    ...Object.entries(meta.versions).map(([k, v]) => [`version: ${esc(k)}`, esc(v)]),
  ];
  const files = Object.entries(meta.inputs).map(([f, n]) => [`<code>${esc(f)}</code>`, String(n)]);
  const missing = meta.missing_inputs.length
    ? `<p class="warn">Missing inputs (the figures, tables or examples built from them are left out): ${meta.missing_inputs.map((m) => `<code>${esc(m)}</code>`).join(", ")}</p>`
    : "";
  return table(["field", "value"], rows, "kv") + notRecorded(h) + missing + `<h3>Input files</h3>` + table(["file", "rows"], files);
}

/** Figure i (0-based) as an <img> with an SVG data URI and its caption; also used by `compare`. */
export function figureHtml(f: RenderedFigure, i: number): string {
  const uri = `data:image/svg+xml;base64,${Buffer.from(f.svg, "utf8").toString("base64")}`;
  return `<figure class="fig" id="${esc(f.name)}"><img src="${uri}" width="${f.width}" height="${f.height}" alt="${esc(f.title)}">` +
    `<figcaption><b>Figure ${i + 1}.</b> ${esc(f.title)}. ${esc(f.caption)}</figcaption></figure>`;
}

export function renderHtml(args: { tables: Tables; meta: Meta; figures: RenderedFigure[]; examples: AppendixExample[]; explorer?: string | null }): string {
  const { tables, meta, figures, examples } = args;
  // The unit explorer is a sibling page (explorer/index.ts): this page stays script-free.
  const explore = args.explorer ? `<a href="${esc(args.explorer)}" id="explorer-link">Unit explorer</a>` : "";
  const figs = figures.map(figureHtml).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sempress report — ${esc(meta.model_id ?? "run")}</title>
<style>${CSS}</style></head>
<body><main>
${demoBanner(meta.header)}
<header><h1>Semantic pressure report</h1>
<div class="sub">Does the probability that the model wants to say X (P0) predict that it says X when told <i>Do not use the word "X"</i>?</div>
${headerFacts(meta.header)}
<div class="sub">${tables.dataset.n_prompts} prompts · ${tables.dataset.total_samples.negative} sampled completions under the prohibition · run ${esc(meta.run_created_at ?? "unknown")} · report ${esc(meta.report_generated_at)}</div>
<nav><a href="#key">Key results</a><a href="#figures">Figures</a><a href="#tables">Tables</a><a href="#examples">Failures</a><a href="#provenance">Provenance</a>${explore}</nav></header>
<section id="key"><h2>Key results</h2>${keyResults(tables)}
<p class="sub">Brackets are 95% percentile intervals from a bootstrap over prompts (B = ${meta.bootstrap.B}).</p></section>
<section id="figures"><h2>Figures</h2>${figs}</section>
<section id="tables"><h2>Tables</h2>${tablesSection(tables)}</section>
<section id="examples"><h2>Curated failures (${examples.length})</h2>
<p class="sub">Completions under the negative prompt that contain X: greedy failures first, highest P0 first, round-robin across categories; the forbidden word is highlighted.</p>
<div class="examples">${examples.map(exampleCard).join("\n")}</div>
${explore ? `<p class="sub">Every prompt × condition, with its samples, attention by layer and logit-lens curve: <a href="${esc(args.explorer)}">the unit explorer</a>.</p>` : ""}</section>
<section id="provenance"><h2>Provenance</h2>${provenance(meta)}</section>
<footer>Generated by sempress ${esc(meta.versions.sempress_report ?? "")}. All numbers are also in <code>assets/tables.json</code> and <code>runs/bootstrap_results.csv</code>.</footer>
</main></body></html>
`;
}
