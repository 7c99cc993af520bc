/**
 * Shared look of every chart: sizes, the colour of each operation, layer and cause (the same
 * colour means the same thing in every notebook), and the config block each spec carries.
 */

/** Default plot area in pixels (the SVG adds axes, legend and title around it). */
export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 260;

/** Operations of block_requests / app_io.op, in legend order, with fixed colours. */
export const OP_DOMAIN = ['read', 'write', 'discard', 'flush', 'sync', 'other'] as const;
export const OP_RANGE = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#9d755d', '#bab0ac'] as const;

/** Layers of the stack, top to bottom. */
export const LAYER_DOMAIN = ['app', 'guest', 'host'] as const;
export const LAYER_LABELS: Record<(typeof LAYER_DOMAIN)[number], string> = {
  app: 'application (syscalls)',
  guest: 'guest block layer',
  host: 'host block layer',
};
export const LAYER_RANGE = ['#72b7b2', '#4c78a8', '#e45756'] as const;

/** Causes of lower-layer bytes (attribution.cause, grouped by causeGroup), in stacking order. */
export const CAUSE_DOMAIN = ['data', 'metadata', 'journal', 'readahead', 'writeback', 'cluster_fill', 'other', 'unattributed'] as const;
export const CAUSE_RANGE = ['#4c78a8', '#b279a2', '#eeca3b', '#54a24b', '#f58518', '#9d755d', '#bab0ac', '#d3d3d3'] as const;

/**
 * Colour encoding of an op field with the fixed palette. With `present`, the legend lists only the
 * operations that occur (colours stay those of the full palette; unknown names get grey).
 */
export function opColor(present?: Iterable<string>, field = 'op', title = 'Operation') {
  const all: readonly string[] = OP_DOMAIN;
  const seen = present ? new Set(present) : new Set(all);
  const domain = [...all.filter((o) => seen.has(o)), ...[...seen].filter((o) => !all.includes(o)).sort()];
  const range = domain.map((o) => {
    const i = all.indexOf(o);
    return i >= 0 ? OP_RANGE[i]! : '#999999';
  });
  return { field, type: 'nominal' as const, title, scale: { domain, range } };
}

/** Axis tick values at powers of ten covering [lo, hi] (for log scales: one labelled tick per decade). */
export function decadeTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  if (!(lo > 0) || !(hi >= lo)) return out;
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * Config carried by every spec: readable fonts, no chart border, legend at the right. Fonts are
 * generic families so that rendering never fetches a web font.
 */
export const CHART_CONFIG = {
  font: 'sans-serif',
  view: { stroke: null },
  title: { fontSize: 15, anchor: 'start', subtitleFontSize: 12, subtitleColor: '#555', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', orient: 'right', labelLimit: 280 },
} as const;

/** Title block: a title and one or more subtitle lines (what is plotted, from which data). */
export function chartTitleBlock(text: string, subtitle?: string | string[]) {
  return subtitle === undefined || subtitle.length === 0 ? { text } : { text, subtitle };
}

/** "4 KiB", "1.5 MiB": binary units as in formatBytes, for labels computed in specs' data. */
export function sizeLabel(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return `${text} ${units[u]}`;
}

/**
 * Colour scales for a spec's `color` encoding, so that an operation, a layer or a cause group has
 * the same colour in every chart: `color: { field: "op", scale: opScale }`.
 */
export const opScale = { domain: [...OP_DOMAIN], range: [...OP_RANGE] };
export const layerScale = { domain: [...LAYER_DOMAIN], range: [...LAYER_RANGE] };
export const causeScale = { domain: [...CAUSE_DOMAIN], range: [...CAUSE_RANGE] };

/**
 * A colour scale cut to some of its values, each keeping its colour: for a chart that draws only
 * those (its legend then lists no others), e.g. `scale: iol.scaleOf(iol.layerScale, ["guest", "host"])`.
 * A value the scale does not have is an error (it would get no colour of its own).
 */
export function scaleOf(scale: { domain: string[]; range: string[] }, values: readonly string[]): { domain: string[]; range: string[] } {
  const range = values.map((v) => {
    const k = scale.domain.indexOf(v);
    if (k < 0) throw new RangeError(`scaleOf: "${v}" is not in the scale (expected one of ${scale.domain.join(', ')})`);
    return scale.range[k]!;
  });
  return { domain: [...values], range };
}

/**
 * The group of an attribution cause in the seed study's figures (CAUSE_DOMAIN): a notebook derives
 * it with `aq.escape((d) => iol.causeGroup(d.cause))`.
 */
export function causeGroup(cause: string): string {
  if (cause === 'app_read' || cause === 'app_write') return 'data';
  if (cause === 'writeback') return 'writeback';
  // the guest's readahead and the host kernel's readahead of the image file
  if (cause === 'readahead' || cause === 'host_readahead') return 'readahead';
  // qcow2 writes the rest of a newly allocated cluster with the guest's bytes
  if (cause === 'image_cluster_fill') return 'cluster_fill';
  if (cause === 'journal' || cause === 'host_journal') return 'journal';
  if (cause.startsWith('fs_metadata') || cause.startsWith('host_fs_metadata') || cause === 'image_metadata') return 'metadata';
  if (cause === 'unattributed') return 'unattributed';
  return 'other';
}
