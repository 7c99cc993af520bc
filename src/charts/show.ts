/**
 * Display a chart in a tslab notebook as ONE Jupyter display_data message carrying three
 * representations of the same chart (Jupyter messaging spec, "display_data": a MIME bundle):
 *  - image/svg+xml: the static SVG, which nbconvert's HTML export and GitHub's viewer show;
 *  - application/vnd.vegalite.v5+json: the spec, which JupyterLab renders as an interactive
 *    Vega-Lite view (tooltips, zoom/pan, brushes) because it ranks that MIME type above SVG.
 *    nbconvert's HTML export drops this type: the publishing script (scripts/notebooks.mjs)
 *    replaces the bundle by the SVG plus the spec compiled to Vega (compileToVega), which the
 *    report's copy of the Vega runtime turns into a live view;
 *  - text/plain: the title, for consoles.
 * tslab's public `display` sends one MIME type per call (two calls would show the chart twice in
 * JupyterLab), so the bundle goes through the writer tslab keeps for the running cell; when that is
 * unavailable (older/newer tslab), the SVG alone is shown through the public API.
 */
import { createRequire } from 'node:module';
import { chartTitle, renderSvg, type ChartSpec } from './render-svg.js';

export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';

/** A MIME bundle as Jupyter's display_data carries it. */
export type MimeBundle = Record<string, string | object>;

/** Build the MIME bundle of a chart (SVG + Vega-Lite spec + title). */
export async function chartBundle(spec: ChartSpec): Promise<MimeBundle> {
  const svg = await renderSvg(spec);
  return {
    'image/svg+xml': svg,
    [VEGA_LITE_MIME]: spec as object,
    'text/plain': chartTitle(spec) || 'chart',
  };
}

type BundleWriter = (msg: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;
interface TslabDisplay {
  svg(s: string): void;
  html(s: string): void;
}

/**
 * Where show() sends bundles: tslab's writer for the running cell; null outside a tslab kernel
 * (tslab keeps that writer null until a cell runs). When tslab's internal layout is not the one
 * expected, its public display API (SVG only) is used.
 */
function tslabSink(): { bundle?: BundleWriter; display?: TslabDisplay } | null {
  const require = createRequire(import.meta.url);
  let jupyter: { lastWriteDisplayData?: BundleWriter | null };
  try {
    jupyter = require('tslab/dist/jupyter.js') as typeof jupyter;
  } catch {
    try {
      return { display: (require('tslab') as { display: TslabDisplay }).display };
    } catch {
      return null;
    }
  }
  return typeof jupyter.lastWriteDisplayData === 'function' ? { bundle: jupyter.lastWriteDisplayData } : null;
}

/**
 * Show a chart in the running tslab cell: static SVG for published reports plus the interactive
 * Vega-Lite view in JupyterLab. Outside a notebook, prints the title. Resolves to nothing, so that
 * `await show(spec)` as a cell's last line displays only the chart.
 */
export async function show(spec: ChartSpec): Promise<void> {
  const bundle = await chartBundle(spec);
  const sink = tslabSink();
  if (sink?.bundle) sink.bundle({ data: bundle, metadata: {}, transient: {} }, false);
  else if (sink?.display) sink.display.svg(bundle['image/svg+xml'] as string);
  else process.stdout.write(`[chart] ${bundle['text/plain'] as string}\n`);
}

/** Show an HTML fragment (a table, a note) in the running tslab cell; prints it outside one. */
export function showHtml(html: string): void {
  const sink = tslabSink();
  if (sink?.bundle)
    sink.bundle({ data: { 'text/html': html, 'text/plain': html.replace(/<[^>]*>/g, ' ') }, metadata: {}, transient: {} }, false);
  else if (sink?.display) sink.display.html(html);
  else process.stdout.write(html + '\n');
}
