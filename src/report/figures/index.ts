/** The report's seven figures, in order. */
import type { FigureContext } from "./context.ts";
import type { FigureSpec } from "./render.ts";
import * as fig1 from "./violationVsP0.ts";
import * as fig2 from "./suppressionVsP0.ts";
import * as fig3 from "./attentionVsP0.ts";
import * as fig4 from "./piVsViolation.ts";
import * as fig5 from "./logitLens.ts";
import * as fig6 from "./attnVsFfn.ts";
import * as fig7 from "./patching.ts";

export const FIGURES: readonly { NAME: string; build: (ctx: FigureContext) => FigureSpec }[] = [fig1, fig2, fig3, fig4, fig5, fig6, fig7];
