/**
 * assets/explorer.html: one self-contained page (inline CSS and script, no requests). The table's
 * index is one embedded JSON block parsed at load; each chunk of unit details is its own
 * `<script type="application/json">` block that the browser stores as text and the page parses only
 * when a unit in it is opened, so a paper-scale page (5,000 units, 80,000 samples) opens fast.
 */
import { readFileSync } from "node:fs";
import { esc } from "../htmlFormat.ts";
import { CSS } from "../style.ts";
import type { ExplorerModel } from "./model.ts";

/** The page's script (plain browser JavaScript, kept beside this module). */
const CLIENT = readFileSync(new URL("./client.js", import.meta.url), "utf8");

const EXPLORER_CSS = `
main { max-width: 1280px; }
.controls { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; margin: 12px 0; font-size: 14px; }
.controls input[type=search] { flex: 1 1 320px; padding: 6px 8px; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
.controls select { padding: 5px; font: inherit; }
#units th { cursor: pointer; user-select: none; white-space: nowrap; }
#units th[aria-sort=ascending]::after { content: " ▲"; }
#units th[aria-sort=descending]::after { content: " ▼"; }
#units tbody tr { cursor: pointer; }
#units tbody tr:hover, #units tbody tr.open { background: #eaf1fb; }
#units td.q { text-align: left; max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--muted); }
td.failure { color: var(--bad); font-weight: 600; }
#detail { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px; padding: 10px 16px; margin: 16px 0; }
#detail pre { background: var(--soft); padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; margin: 6px 0; }
#detail ol.samples { padding-left: 28px; display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 0 18px; }
#detail ol.samples li pre { margin: 2px 0; padding: 3px 8px; }
.r-instruction { background: #e6efff; } .r-question { background: #eef7ea; }
.r-negation { box-shadow: inset 0 -2px 0 #3a6fb0; } .r-target { outline: 1px solid #d6453d; }
table.heat { width: auto; font-size: 11px; } table.heat td { min-width: 22px; height: 18px; padding: 0; border: 1px solid #fff; }
table.heat th { font-weight: normal; padding: 0 4px; }
svg.lens { border: 1px solid var(--line); background: #fff; }
p.seqs { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12px; margin: 4px 0; }
.facts span { margin-right: 14px; }
`;

export interface ExplorerPageArgs {
  title: string;
  /** One line under the title (model, run, counts). */
  subtitle: string;
  /** Link back to the report this explorer belongs to (relative), or null. */
  reportHref: string | null;
  /** Shown above the table when the page has no or partial data (e.g. units.jsonl missing). */
  notice: string | null;
  model: ExplorerModel;
}

/** JSON safe inside a <script> element: `<` escaped, so neither `</script>` nor `<!--` can occur. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export function renderExplorer(a: ExplorerPageArgs): string {
  const chunks = a.model.chunks
    .map((c, i) => `<script type="application/json" id="chunk-${i}">${scriptJson(c)}</script>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(a.title)}</title>
<style>${CSS}${EXPLORER_CSS}</style></head>
<body><main>
<header><h1>${esc(a.title)}</h1><div class="sub">${esc(a.subtitle)}</div>
${a.reportHref ? `<nav><a href="${esc(a.reportHref)}">Back to the report</a></nav>` : ""}</header>
${a.notice ? `<p class="warn" id="notice">${esc(a.notice)}</p>` : ""}
<div class="controls">
<input id="q" type="search" placeholder="Search prompt id, X, category or question" aria-label="search units">
<label>condition <select id="cond"><option value="">all</option><option>negative</option><option>baseline</option></select></label>
<label>outcome <select id="out"><option value="">all</option><option>failure</option><option>success</option></select></label>
<span id="count" class="sub"></span></div>
<section id="detail" hidden></section>
<table id="units"><thead><tr>
<th data-k="id">prompt id</th><th data-k="c">condition</th><th data-k="cat">category</th><th data-k="x">X</th>
<th data-k="p0">P0</th><th data-k="ps">P_sem</th><th data-k="bin">bin</th><th data-k="o">outcome</th><th data-k="v">samples with X</th><th data-k="q">question</th>
</tr></thead><tbody></tbody></table>
<button id="more" type="button" hidden>Show more</button>
<p class="sub">Outcome is the negative prompt's greedy outcome (both conditions of a prompt share it). Click a row to open the unit; its details are read from the page's embedded data only then.</p>
</main>
<script type="application/json" id="explorer-index">${scriptJson({ rows: a.model.rows })}</script>
${chunks}
<script>${CLIENT}</script>
</body></html>
`;
}
