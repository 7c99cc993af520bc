/**
 * A small HTML table for notebook output (rendered in JupyterLab and kept by nbconvert): numbers
 * right-aligned with thousands separators, text escaped.
 */

export interface HtmlTableColumn<R> {
  /** Header text (say the unit: "bytes", "ns"). */
  title: string;
  value: (row: R) => string | number | bigint | null | undefined;
  /** Formatting of numbers; default: thousands separators. */
  format?: (v: number | bigint) => string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function htmlTable<R>(rows: readonly R[], columns: readonly HtmlTableColumn<R>[], caption?: string): string {
  const head = columns.map((c) => `<th>${escapeHtml(c.title)}</th>`).join('');
  const body = rows.map((r) => '<tr>' + columns.map((c) => {
    const v = c.value(r);
    if (typeof v === 'number' || typeof v === 'bigint') {
      const text = c.format ? c.format(v) : v.toLocaleString('en-US');
      return `<td class="num" style="text-align:right">${escapeHtml(text)}</td>`;
    }
    return `<td>${escapeHtml(v == null ? '' : String(v))}</td>`;
  }).join('') + '</tr>').join('\n');
  const cap = caption ? `<caption style="text-align:left">${escapeHtml(caption)}</caption>` : '';
  return `<table>${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}
