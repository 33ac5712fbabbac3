import { test } from "node:test";
import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import { Resvg } from "@resvg/resvg-js";
import { createDocument, fontFiles, renderFigure, resvgOptions, svgToPng } from "../../src/report/figures/render.ts";

const document = createDocument();

function darkPixels(svg: string, fonts: string[]): number {
  const img = new Resvg(svg, resvgOptions(fonts, 1)).render();
  const px = img.pixels;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] < 128 && px[i + 1] < 128 && px[i + 2] < 128) n++;
  return n;
}

test("the rasteriser draws text with the configured font (and draws none without a font)", () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="28" font-size="20" font-family="system-ui, sans-serif">Pressure 0.42</text></svg>`;
  const fonts = fontFiles();
  assert.ok(fonts.some((f) => f.endsWith("DejaVuSans.ttf")), fonts.join(","));
  assert.ok(darkPixels(svg, fonts) > 200, "text did not render");
  assert.equal(darkPixels(svg, []), 0);
});

test("a figure is one standalone SVG with title, wrapped subtitle, legend and the chart", () => {
  const fig = renderFigure(
    {
      name: "t",
      title: "A & B <title>",
      subtitle: "word ".repeat(60).trim(),
      legend: [{ label: "Series one", color: "#ff0000", kind: "line" }],
      plot: { height: 200, x: { label: "P0 →" }, marks: [Plot.dot([{ x: 0.1, y: 1 }, { x: 0.9, y: 2 }], { x: "x", y: "y" })] },
    },
    document,
  );
  assert.match(fig.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="760"/);
  assert.equal((fig.svg.match(/<svg/g) ?? []).length, 1, "Plot's own <svg> must be inlined as a group");
  assert.ok(fig.svg.includes("A &amp; B &lt;title&gt;"));
  assert.ok(fig.svg.includes("Series one"));
  assert.ok(!fig.svg.includes("system-ui"));
  assert.ok(!fig.svg.includes("<style>"));
  assert.ok((fig.svg.match(/fill="#555555"/g) ?? []).length >= 2, "long subtitle wraps onto several lines");
  assert.ok(fig.height > 200);
  const png = svgToPng(fig.svg, fontFiles());
  assert.equal(png.readUInt32BE(16), 760 * 2, "PNG is rendered at 2×");
});
