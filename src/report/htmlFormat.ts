/** Small HTML formatting helpers shared by the report page's sections. */
import type { Estimate } from "./ciBook.ts";

export function esc(s: unknown): string {
  return String(s ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export const pct = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "n/a" : `${(v * 100).toFixed(d)}%`);
export const fx = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? "n/a" : v.toFixed(d));
export const ci = (e: Estimate, f: (v: number | null) => string = (v) => fx(v)) =>
  `${f(e.estimate)} <span class="ci">[${f(e.ci_low)}, ${f(e.ci_high)}]</span>`;
export const ciPct = (e: Estimate) => ci(e, (v) => pct(v));

/** A table; `rowClass(i)` gives row i a class (e.g. "sparse"). */
export function table(head: string[], rows: string[][], cls = "", rowClass: (i: number) => string = () => ""): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r, i) => {
      const rc = rowClass(i);
      return `<tr${rc ? ` class="${rc}"` : ""}>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`;
    })
    .join("")}</tbody></table>`;
}
