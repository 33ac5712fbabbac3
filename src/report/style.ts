/** The report page's inline stylesheet (no external requests). */
export const CSS = `
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa; --accent:#3a6fb0; --bad:#d6453d; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.55 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 28px 64px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.sub { color: var(--muted); font-size: 14px; }
nav { font-size: 14px; margin: 10px 0 0; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
ul.key li { margin: 4px 0; }
.ci { color: var(--muted); font-size: 0.9em; white-space: nowrap; }
figure.fig { margin: 18px 0 28px; padding: 12px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figure.fig img { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 8px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { background: var(--soft); font-weight: 600; }
tbody tr:nth-child(even) { background: #fbfcfd; }
table.kv td:first-child { color: var(--muted); width: 32%; }
table.kv td, table.kv th { text-align: left; }
.examples { display: grid; grid-template-columns: 1fr; gap: 14px; }
.ex { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 6px; padding: 10px 14px; background: #fff; }
.ex h3 { margin: 0 0 6px; font-size: 15px; }
.ex pre { background: var(--soft); padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; margin: 6px 0; }
.ex .meta { color: var(--muted); font-size: 13px; }
mark { background: #ffd9d6; color: #8a1c15; padding: 0 1px; border-radius: 2px; }
code { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 0.92em; }
.warn { background: #fff8e1; border: 1px solid #f0d98c; padding: 8px 12px; border-radius: 6px; }
.demo-banner { background: #fdecea; border: 2px solid var(--bad); color: #7a1712; padding: 12px 16px; border-radius: 8px; margin: 0 0 18px; font-size: 14.5px; }
.demo-banner b { font-size: 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
tr.sparse td { color: var(--muted); font-style: italic; }
.tag { font-size: 11.5px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-left: 4px; font-style: normal; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
`;
