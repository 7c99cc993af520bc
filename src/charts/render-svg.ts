/**
 * Headless rendering of a Vega-Lite chart to a static SVG string (no canvas, no DOM, no network):
 * Vega-Lite compiles the spec to a Vega spec, and a Vega View with renderer "none" serialises its
 * scenegraph as SVG. The SVG is what survives nbconvert's HTML export and GitHub's notebook viewer.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * A Vega-Lite (v5) spec as the chart functions of this folder return it: a plain JSON object.
 * Deliberately not vega-lite's own TopLevelSpec type: the public .d.ts then stays small, and tslab,
 * which type-checks every notebook cell against the imported declarations, stays fast.
 */
export interface ChartSpec {
  [key: string]: unknown;
}

/**
 * A Vega (v5) spec: what Vega-Lite compiles to, and what a Vega View parses. A plain JSON object in
 * the public declarations, for the reason given at ChartSpec.
 */
export interface VegaSpec {
  [key: string]: unknown;
}

/**
 * Compile a Vega-Lite spec to the Vega spec a Vega View runs (vega-lite's `compile`), refusing data
 * given by URL: Vega reports a failed load only in its log and renders an empty chart, and a
 * chart's data must travel with it (published reports load nothing from the network).
 */
export function compileToVega(spec: ChartSpec): VegaSpec {
  const compiled = compile(spec as unknown as TopLevelSpec).spec;
  refuseDataUrls(compiled);
  return compiled as unknown as VegaSpec;
}

function refuseDataUrls(spec: vega.Spec): void {
  for (const d of spec.data ?? []) {
    if ('url' in d && d.url) throw new Error(`chart data must be inline (data.values); refusing to load ${JSON.stringify(d.url)}`);
  }
}

/** Render a Vega-Lite spec to SVG text; see renderVegaSvg. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  return renderVegaSvg(compileToVega(spec));
}

/**
 * Render a Vega spec to SVG text. Data must be inline (`data.values`): the view's loader is denied
 * every URL and file, so rendering never touches the network or the disk.
 */
export async function renderVegaSvg(spec: VegaSpec): Promise<string> {
  refuseDataUrls(spec as unknown as vega.Spec);
  const loader = vega.loader();
  const deny = (uri: string): Promise<never> => Promise.reject(new Error(`chart data must be inline; refusing to load ${uri}`));
  loader.load = deny as typeof loader.load;
  const view = new vega.View(vega.parse(spec as unknown as vega.Spec), { renderer: 'none', loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The chart's title text (first line when the title has several), or "" when it has none. */
export function chartTitle(spec: ChartSpec): string {
  const t = (spec as { title?: unknown }).title;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return String(t[0] ?? '');
  if (t && typeof t === 'object' && 'text' in t) {
    const text = (t as { text: unknown }).text;
    return Array.isArray(text) ? String(text[0] ?? '') : String(text ?? '');
  }
  return '';
}
