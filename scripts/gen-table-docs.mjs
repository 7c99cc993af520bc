// Generates docs/tables.md from the table schemas in dist/table/schemas/*.js (run after the build).
// Usage: node scripts/gen-table-docs.mjs [--check]   --check exits 1 when docs/tables.md is stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'table', 'schemas');

export async function renderTableDocs() {
  const specs = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    for (const v of Object.values(mod)) {
      if (v && typeof v === 'object' && typeof v.name === 'string' && Array.isArray(v.columns)) specs.push(v);
    }
  }
  specs.sort((a, b) => a.name.localeCompare(b.name));
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  const out = [
    '# Tables',
    '',
    'Generated from `src/table/schemas/*.ts` by `node scripts/gen-table-docs.mjs`; do not edit by hand.',
    'Every table is an Arrow IPC file `<name>.arrow`. Strings are dictionary-encoded; 64-bit integers',
    'are Int64 (read them as BigInt64Array to keep every bit). Each column carries its doc, unit and',
    'clock as Arrow field metadata too.',
    '',
    ...specs.map((s) => `- [${s.name}](#${s.name})`),
    '',
  ];
  for (const s of specs) {
    out.push(`## ${s.name}`, '', s.doc, '', '| column | type | null | unit / clock | meaning |', '|---|---|---|---|---|');
    for (const c of s.columns) {
      const unit = [c.unit, c.clock ? `clock: ${c.clock}` : ''].filter(Boolean).join('; ');
      const vals = c.values ? ` Values: ${c.values.map((v) => '`' + v + '`').join(', ')}.` : '';
      out.push(`| \`${c.name}\` | ${c.type} | ${c.nullable ? 'yes' : ''} | ${esc(unit)} | ${esc(c.doc + vals)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = await renderTableDocs();
  const target = join(root, 'docs', 'tables.md');
  if (process.argv.includes('--check')) {
    let cur = '';
    try {
      cur = readFileSync(target, 'utf8');
    } catch {
      /* missing */
    }
    if (cur !== text) {
      console.error('docs/tables.md is stale: run node scripts/gen-table-docs.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote docs/tables.md`);
  }
}
