/** The report page's header facts and, for demo material, the banner above everything else. */
import type { ReportHeader } from "./header.ts";
import { esc } from "./htmlFormat.ts";

/** The banner shown at the top of the page when the dataset or its validation is demo material; "" otherwise. */
export function demoBanner(h: ReportHeader): string {
  if (!h.demo.any) return "";
  const what: string[] = [];
  if (h.demo.generated > 0) what.push(`${h.demo.generated} of ${h.demo.of} prompts were built from the bundled hand-written demo replies (data/replay/demo, labelled <code>_demo</code>)`);
  if (h.demo.judged_by_rule > 0) what.push(`${h.demo.judged_by_rule} of ${h.demo.of} prompts were "validated" by a fixed DEMO RULE (hash-derived scores), not by a model`);
  if (what.length === 0) what.push("the run records its dataset as built from the labelled demo set (data/replay/demo)");
  return `<div class="demo-banner" id="demo-banner" role="note"><b>Demo data:</b> ${what.join("; ")}. ` +
    `These replies and judgements are not model output and not a judgement of the prompts: the dataset is not a validated dataset, ` +
    `and the numbers below show that the pipeline runs, not findings about the model.</div>`;
}

function datasetSource(h: ReportHeader): string {
  const from = h.llm_provider === "demo" ? "demo replay" : h.llm_provider === "replay" ? "replay of recorded batch outputs" : h.llm_provider === "openai" ? "OpenAI Batch API" : h.llm_provider === "chat" ? "OpenAI-compatible chat endpoint" : "provenance unknown";
  const dir = h.llm_replay_dir ? ` from <code>${esc(h.llm_replay_dir)}</code>` : "";
  return `<code>${esc(h.prompts_file)}</code> (${from}${dir})`;
}

/** The model the dataset build asked for, what the server said it ran, and where. */
function llmModel(h: ReportHeader): string {
  const served = h.llm_server_model && h.llm_server_model !== h.llm_model ? ` (server reports <code>${esc(h.llm_server_model)}</code>)` : "";
  return `<code>${esc(h.llm_model ?? "")}</code>${served}${h.llm_base_url ? ` at <code>${esc(h.llm_base_url)}</code>` : ""}`;
}

/** The header's fact list: profile, model, prompt format, dataset source, LLM provider. */
export function headerFacts(h: ReportHeader): string {
  const rows: [string, string][] = [
    ["Profile", esc(h.profile)],
    ["Model", `<code>${esc(h.model_id)}</code> (source: ${esc(h.model_source)})`],
    ["Prompt format", esc(h.prompt_format)],
    ["Dataset", datasetSource(h)],
    ["LLM provider", esc(h.llm_provider)],
    ...(h.llm_model ? [["LLM model", llmModel(h)] as [string, string]] : []),
  ];
  return `<dl class="facts" id="run-facts">${rows.map(([k, v]) => `<dt>${k}</dt><dd data-field="${esc(k.toLowerCase().replace(/ /g, "_"))}">${v}</dd>`).join("")}</dl>`;
}

/** The provenance section's note on facts the inputs did not record. */
export function notRecorded(h: ReportHeader): string {
  if (h.not_recorded.length === 0) return "";
  return `<p class="warn">Not recorded by the run or the dataset build (shown as "unknown" or inferred): ${h.not_recorded.map((f) => `<code>${esc(f)}</code>`).join(", ")}.</p>`;
}
