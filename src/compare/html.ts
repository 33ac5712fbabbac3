/**
 * compare.html: one self-contained page (figures as SVG data URIs, inline CSS, no scripts): what each
 * run is (from its run.json), whether runs were compared prompt by prompt or by bin and why, each
 * run's logistic fit, suppression and per-bin rates, the differences B − A with CIs, where patching
 * ΔP changes sign, the figures, and a link to each run's unit explorer.
 */
import type { Estimate } from "../report/ciBook.ts";
import type { RenderedFigure } from "../report/figures/render.ts";
import { figureHtml } from "../report/html.ts";
import { ci, ciPct, esc, fx, table } from "../report/htmlFormat.ts";
import { CSS } from "../report/style.ts";
import { MIN_BIN_PROMPTS } from "../report/support.ts";
import type { RunSummary } from "./runSummary.ts";
import type { SignChange } from "./signChange.ts";
import type { CompareTables, PairComparison } from "./tables.ts";

const SPARSE_TAG = `<span class="tag">sparse: n &lt; ${MIN_BIN_PROMPTS}</span>`;
const notRecorded = `<span class="sub">not recorded</span>`;
const orNot = (v: string | null, f: (s: string) => string = esc) => (v ? f(v) : notRecorded);
const code = (s: string) => `<code>${esc(s)}</code>`;
const pts = (e: Estimate) => ci(e, (v) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}`));

function runsTable(runs: readonly RunSummary[], explorers: Record<string, string>): string {
  return table(
    ["run", "model", "model as asked", "profile", "prompt format", "dataset", "config hash", "layers", "prompts", "unit explorer"],
    runs.map((r) => [
      `<b>${esc(r.label)}</b>`,
      orNot(r.model_id, code),
      orNot(r.model_spec, code),
      orNot(r.profile),
      orNot(r.prompt_format),
      `${orNot(r.dataset.path, code)}<br><span class="sub">sha256 ${esc(r.dataset.sha256?.slice(0, 12) ?? "not recorded")}</span>`,
      orNot(r.config_hash, code),
      String(r.n_layers),
      String(r.n_prompts),
      explorers[r.label] ? `<a class="explorer" href="${esc(explorers[r.label])}">explore ${esc(r.label)}</a>` : notRecorded,
    ]),
    "runs",
  );
}

function fitsTable(runs: readonly RunSummary[]): string {
  return table(
    ["run", "intercept", "slope", "prompts", "samples", "observed P0", "samples with X", "R = (P0 − P1)/P0"],
    runs.map((r) => {
      const o = r.logistic.observed_p0;
      const nc = r.logistic.converged ? "" : `<span class="tag">fit did not converge: no slope (e.g. no violations)</span>`;
      return [
        `<b>${esc(r.label)}</b> ${esc(r.name)}`, ci(r.logistic.intercept, (v) => fx(v, 2)) + nc, ci(r.logistic.slope, (v) => fx(v, 2)) + nc,
        String(r.logistic.n_prompts), String(r.logistic.n_samples), o ? `${fx(o.min, 2)}–${fx(o.max, 2)}` : "none",
        ciPct(r.violation_overall.sampled), ci(r.suppression.rel_suppression, (v) => fx(v, 2)),
      ];
    }),
  );
}

function suppressionTable(runs: readonly RunSummary[]): string {
  return table(
    ["run", "P0", "P1", "Δ = P0 − P1", "R = Δ/P0"],
    runs.map((r) => [`<b>${esc(r.label)}</b> ${esc(r.name)}`, ci(r.suppression.p0), ci(r.suppression.p1), ci(r.suppression.delta), ci(r.suppression.rel_suppression, (v) => fx(v, 2))]),
  );
}

function pairSection(p: PairComparison): string {
  const out = [`<h3 id="diff-${esc(p.b)}">${esc(p.b)} − ${esc(p.a)}</h3>`, `<p class="mode" data-mode="${p.mode}">${esc(p.statement)}</p>`];
  if (p.paired) {
    const d = p.paired;
    const m = d.mean_difference;
    out.push(
      table(["quantity (over the shared prompts)", "B − A", "note"], [
        ["logistic slope", ci(d.logistic.slope_difference, (v) => fx(v, 2)), `A ${ci(d.logistic.slope_a, (v) => fx(v, 2))}, B ${ci(d.logistic.slope_b, (v) => fx(v, 2))}, refitted on the ${d.n_prompts} shared prompts` +
          (d.logistic.slope_difference.estimate === null ? "; a run's fit does not converge on them (e.g. no violations), so there is no difference to quote" : "")],
        ["logistic intercept", ci(d.logistic.intercept_difference, (v) => fx(v, 2)), ""],
        ["P0", ci(m.p0), "mean of per-prompt differences"],
        ["P1", ci(m.p1), ""],
        ["R = (P0 − P1)/P0", ci(m.rel_suppression, (v) => fx(v, 2)), ""],
        ["samples with X (negative), points", pts(m.violation_rate), "percentage points"],
        ["greedy answer with X (negative), points", pts(m.greedy_violation), "percentage points"],
        ["same greedy outcome in both runs", ciPct(d.outcome_agreement), "share of shared prompts (not a difference)"],
      ], "diff"),
    );
  }
  if (p.by_bin) {
    const d = p.by_bin;
    out.push(table(["quantity", "B − A"], [
      ["logistic slope", ci(d.logistic.slope_difference, (v) => fx(v, 2))],
      ["logistic intercept", ci(d.logistic.intercept_difference, (v) => fx(v, 2))],
    ], "diff"));
    out.push(
      table(
        ["P0 bin", `prompts in ${esc(p.a)}`, `prompts in ${esc(p.b)}`, "samples with X, B − A (points)"],
        d.by_bin.map((b) => [esc(b.label) + (b.sparse && (b.n_a || b.n_b) ? SPARSE_TAG : ""), String(b.n_a), String(b.n_b), pts(b.difference)]),
        "diff-bins",
        (i) => (d.by_bin[i].sparse ? "sparse" : ""),
      ),
    );
  }
  return out.join("\n");
}

function binsTable(runs: readonly RunSummary[]): string {
  const bins = runs[0].violation_by_bin;
  return table(
    ["P0 bin", ...runs.map((r) => `${esc(r.label)}: samples with X (prompts)`)],
    bins.map((b, i) => [
      esc(b.label),
      ...runs.map((r) => {
        const c = r.violation_by_bin[i];
        return c && c.n_prompts > 0 ? `${ciPct(c)} (${c.n_prompts})${c.sparse ? SPARSE_TAG : ""}` : "—";
      }),
    ]),
  );
}

function changeText(c: SignChange): string {
  const dir = c.direction === "negative_to_positive" ? "− → +" : "+ → −";
  return `layer ${c.from_layer} → ${c.to_layer} (${dir}), depth ${fx(c.depth_crossing, 2)}${c.both_cis_exclude_zero ? "" : " <span class=\"sub\">(a CI includes 0)</span>"}`;
}

function signTable(runs: readonly RunSummary[]): string {
  const rows: string[][] = [];
  for (const r of runs)
    for (const site of ["resid", "attn"] as const) {
      const series = r.patching[site];
      const ch = r.patching.sign_changes[site];
      rows.push([
        `<b>${esc(r.label)}</b> ${esc(r.name)}`, site, String(r.n_layers),
        series.length === 0 ? "no patching data" : ch.length ? changeText(ch[0]) : `none: ΔP keeps one sign over ${series.length} layers`,
        ch.length > 1 ? ch.slice(1, 4).map(changeText).join("; ") + (ch.length > 4 ? `; and ${ch.length - 4} more (compare.json)` : "") : "—",
      ]);
    }
  return table(["run", "site", "layers", "first sign change of mean ΔP (crossing at relative depth)", "later changes"], rows, "sign");
}

export function renderCompareHtml(t: CompareTables, figures: readonly RenderedFigure[], explorers: Record<string, string>): string {
  const title = t.runs.map((r) => `${r.label}: ${r.name}`).join(" vs ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sempress compare — ${esc(title)}</title>
<style>${CSS}</style></head>
<body><main>
<header><h1>Semantic pressure across runs</h1>
<div class="sub">${esc(title)} · generated ${esc(t.generated_at)}</div>
<nav><a href="#runs">Runs</a><a href="#comparison">Comparison</a><a href="#fits">Fits</a><a href="#bins">By bin</a><a href="#sign">Patching sign</a><a href="#figures">Figures</a></nav></header>
<section id="runs"><h2>Runs</h2>${runsTable(t.runs, explorers)}
<p class="sub">What each run is, from its <code>runs/run.json</code>. Each run's unit explorer lists every prompt × condition with its samples.</p></section>
<section id="comparison"><h2>Comparison (reference ${esc(t.comparison.reference)})</h2>
${t.comparison.pairs.map(pairSection).join("\n")}
<p class="sub">Brackets are 95% percentile intervals, B = ${t.bootstrap.B}, seed ${t.bootstrap.seed}.</p></section>
<section id="fits"><h2>Each run's fit (negative condition, per sample)</h2>${fitsTable(t.runs)}
<h3 id="supp">Suppression (mean over each run's prompts)</h3>${suppressionTable(t.runs)}</section>
<section id="bins"><h2>Samples with X by P0 bin (negative condition)</h2>${binsTable(t.runs)}
<p class="sub">Each run's own P0 bins. Bins with fewer than ${MIN_BIN_PROMPTS} prompts are sparse: shown, never claimed.</p></section>
<section id="sign"><h2>Where patching ΔP changes sign</h2>${signTable(t.runs)}
<p class="sub">${esc(t.depth_note)}.</p></section>
<section id="figures"><h2>Figures</h2>${figures.map(figureHtml).join("\n")}</section>
<footer>Generated by sempress compare. All numbers are also in <code>compare.json</code>.</footer>
</main></body></html>
`;
}
