/**
 * Shared figure rendering: Observable Plot draws the chart into a jsdom document, and this module
 * wraps it in one standalone SVG with a title, subtitle and legend (Plot's own legends are HTML,
 * which a standalone SVG cannot hold), then rasterises it to PNG with resvg and a real font file.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as Plot from "@observablehq/plot";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import { JSDOM } from "jsdom";
import { SempressError } from "../../errors.ts";

export const FONT_FAMILY = "DejaVu Sans";
const FONT_STACK = `${FONT_FAMILY}, Verdana, Arial, sans-serif`;

/** Shared palette: one meaning per colour across all figures. */
export const COLORS = {
  baseline: "#8c8c8c",
  negative: "#3a6fb0",
  success: "#2e9e5b",
  failure: "#d6453d",
  attn: "#e08a1e",
  ffn: "#7b5ea7",
  prior: "#9a9a9a",
  ink: "#222222",
  bins: ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"],
} as const;

export interface LegendItem {
  label: string;
  color: string;
  /** How the swatch is drawn. */
  kind?: "dot" | "hollow" | "line" | "dash" | "band";
}

export interface FigureSpec {
  /** File stem: assets/figures/{name}.svg and .png. */
  name: string;
  title: string;
  subtitle?: string;
  legend?: LegendItem[];
  /** Plot options without `document` (added here). */
  plot: Plot.PlotOptions;
  /** Shown below the figure in the HTML report. */
  caption?: string;
}

export interface RenderedFigure {
  name: string;
  title: string;
  caption: string;
  svg: string;
  width: number;
  height: number;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Greedy word wrap by an average glyph width (DejaVu Sans ≈ 0.6 em). */
function wrap(text: string, width: number, fontSize: number): string[] {
  const maxChars = Math.max(20, Math.floor(width / (fontSize * 0.54)));
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(/\s+/)) {
    if (cur && (cur + " " + word).length > maxChars) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** A jsdom window for Plot; one per report build. */
export function createDocument(): Document {
  return new JSDOM("<!doctype html><html><body></body></html>").window.document as unknown as Document;
}

const PAD = 16;

/** Renders a spec into a standalone SVG string (title, subtitle, legend, chart). */
export function renderFigure(spec: FigureSpec, document: Document): RenderedFigure {
  const width = spec.plot.width ?? 760;
  const el = Plot.plot({ ...spec.plot, width, document }) as unknown as Element;
  if (el.tagName.toLowerCase() !== "svg") {
    throw new SempressError("figure_error", `figure ${spec.name}: Plot returned <${el.tagName}>, expected <svg> (no Plot title/legend options)`);
  }
  const plotHeight = Number(el.getAttribute("height"));
  const inner = new (document.defaultView as unknown as { XMLSerializer: typeof XMLSerializer }).XMLSerializer().serializeToString(el);
  const body = inner
    .replace(/^<svg[^>]*>/, "")
    .replace(/<\/svg>\s*$/, "")
    .replace(/<style>[\s\S]*?<\/style>/, "");

  const parts: string[] = [];
  let y = PAD + 16;
  parts.push(`<text x="${PAD}" y="${y}" font-size="17" font-weight="bold" fill="${COLORS.ink}">${xmlEscape(spec.title)}</text>`);
  if (spec.subtitle) {
    for (const line of wrap(spec.subtitle, width - 2 * PAD, 12.5)) {
      y += 19;
      parts.push(`<text x="${PAD}" y="${y}" font-size="12.5" fill="#555555">${xmlEscape(line)}</text>`);
    }
  }
  if (spec.legend?.length) {
    y += 24;
    let x = PAD;
    for (const item of spec.legend) {
      const w = 26 + item.label.length * 7.2 + 18;
      if (x + w > width - PAD && x > PAD) {
        x = PAD;
        y += 20;
      }
      parts.push(swatch(item, x, y - 4));
      parts.push(`<text x="${x + 24}" y="${y}" font-size="12" fill="${COLORS.ink}">${xmlEscape(item.label)}</text>`);
      x += w;
    }
  }
  const top = y + 12;
  const height = Math.ceil(top + plotHeight + PAD / 2);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${FONT_STACK}" role="img" aria-label="${xmlEscape(spec.title)}">` +
    `<title>${xmlEscape(spec.title)}</title>` +
    `<rect width="100%" height="100%" fill="white"/>` +
    parts.join("") +
    `<g transform="translate(0,${top})" fill="currentColor" font-size="11" text-anchor="middle">${body}</g>` +
    `</svg>`;
  return { name: spec.name, title: spec.title, caption: spec.caption ?? "", svg: svg.replace(/system-ui, sans-serif/g, FONT_STACK), width, height };
}

function swatch(item: LegendItem, x: number, cy: number): string {
  switch (item.kind ?? "dot") {
    case "line":
      return `<line x1="${x}" x2="${x + 18}" y1="${cy}" y2="${cy}" stroke="${item.color}" stroke-width="2.5"/>`;
    case "dash":
      return `<line x1="${x}" x2="${x + 18}" y1="${cy}" y2="${cy}" stroke="${item.color}" stroke-width="2" stroke-dasharray="4,3"/>`;
    case "hollow":
      return `<circle cx="${x + 9}" cy="${cy}" r="4.5" fill="none" stroke="${item.color}" stroke-width="1.8"/>`;
    case "band":
      return `<rect x="${x}" y="${cy - 6}" width="18" height="12" fill="${item.color}" fill-opacity="0.3"/>`;
    default:
      return `<circle cx="${x + 9}" cy="${cy}" r="5" fill="${item.color}"/>`;
  }
}

/** A figure that says its data is missing (keeps the report's figure list complete). */
export function placeholderSpec(name: string, title: string, why: string): FigureSpec {
  return {
    name,
    title,
    subtitle: why,
    plot: {
      height: 160,
      x: { axis: null },
      y: { axis: null },
      marks: [Plot.frame({ stroke: "#cccccc" }), Plot.text([why], { frameAnchor: "middle", fontSize: 14, fill: "#777777" })],
    },
    caption: why,
  };
}

/** Font files for resvg: the bundled font when present, else system DejaVu (Debian fonts-dejavu-core). */
export function fontFiles(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../../../assets/fonts"), "/usr/share/fonts/truetype/dejavu"];
  for (const dir of candidates) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir)
      .filter((f) => /^DejaVuSans(-Bold)?\.ttf$/.test(f))
      .map((f) => join(dir, f));
    if (files.length) return files;
  }
  throw new SempressError(
    "font_missing",
    "no DejaVu Sans font found in assets/fonts or /usr/share/fonts/truetype/dejavu (install Debian's fonts-dejavu-core)",
  );
}

/** Rasterises an SVG to PNG at `scale`× with the given font files (system fonts are not consulted). */
export function svgToPng(svg: string, fonts: string[], scale = 2): Buffer {
  return new Resvg(svg, resvgOptions(fonts, scale)).render().asPng();
}

/** resvg options: white background, `scale`× zoom, only the given fonts, DejaVu Sans for every family. */
export function resvgOptions(fonts: string[], scale = 2): ResvgRenderOptions {
  return {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { fontFiles: fonts, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  };
}
