/**
 * `iolineage map image IMAGE -o DIR`: writes DIR/image_map.arrow and prints a summary. Kept here
 * so that src/cli/map.ts only dispatches.
 */
import { parseCommandArgs } from './args.js';
import { arrowFileWriter } from '../table/arrow-file.js';
import { withOutputFolder } from '../io/output-folder.js';
import { UsageError } from '../util/errors.js';
import { formatBytes } from '../util/numbers.js';
import { mapImage, type ImageMapSummary } from '../image/image-map.js';

export const mapImageHelp = `usage: iolineage map image IMAGE -o DIR [options]

Map a virtual disk image (raw, or qcow2 v2/v3 with its backing chain) to the bytes of its image
file(s): writes DIR/image_map.arrow (one row per extent: guest_offset, length, state data | zero |
unallocated | compressed, depth, file, host_offset, host_length), the same extents
\`qemu-img map --output=json\` reports. Backing files are looked up relative to the image naming
them. Files are opened read-only. Prints the chain, the bytes by state and the partition table.

options:
  -o, --out DIR        output directory (created if missing; required)
  --format F           auto (default: qcow2 by magic, else raw) | raw | qcow2
  --max-depth N        longest backing chain accepted (default 64)
  --json               print the summary as JSON`;

export async function runMapImage(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('map image', argv, {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    'max-depth': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`map image: expected one IMAGE, got ${positionals.length} (see --help)`);
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('map image: -o DIR is required (see --help)');
  const format = (values.format as string | undefined) ?? 'auto';
  if (format !== 'auto' && format !== 'raw' && format !== 'qcow2')
    throw new UsageError(`map image: --format ${format}: expected auto, raw or qcow2`);
  const maxDepthText = values['max-depth'] as string | undefined;
  const maxDepth = maxDepthText === undefined ? undefined : Number(maxDepthText);
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 1))
    throw new UsageError(`map image: --max-depth ${maxDepthText}: expected a positive integer`);
  const { table, summary } = mapImage(positionals[0]!, { format, ...(maxDepth ? { maxDepth } : {}) });
  const { result: file, notes } = await withOutputFolder(out, 'map image', (folder) =>
    folder.stage('image_map.arrow', arrowFileWriter(table)),
  );
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  if (values.json) process.stdout.write(JSON.stringify({ ...summary, output: file }, null, 2) + '\n');
  else process.stdout.write(formatSummary(summary, file));
  return 0;
}

function formatSummary(s: ImageMapSummary, file: string): string {
  const lines = [`${s.file}: virtual size ${s.virtualSize} (${formatBytes(s.virtualSize)}), ${s.extents} extents -> ${file}`];
  for (const c of s.chain) {
    const q =
      c.format === 'qcow2'
        ? ` v${c.version}, cluster ${c.clusterSize}${c.extendedL2 ? ', extended L2' : ''}, ${c.compression}${c.dirty ? ', DIRTY' : ''}${c.corrupt ? ', marked CORRUPT' : ''}${c.snapshots ? `, ${c.snapshots} snapshots` : ''}`
        : '';
    lines.push(`  depth ${c.depth}: ${c.file} (${c.format}${q}; file ${formatBytes(c.fileSize)})`);
  }
  lines.push('  guest bytes by state:');
  for (const [k, v] of Object.entries(s.bytes))
    if (v) lines.push(`    ${k.padEnd(11)} ${String(v).padStart(15)} bytes (${formatBytes(v)})`);
  for (const m of s.metadata) {
    lines.push(
      `  qcow2 structures in depth ${m.depth}: ${Object.entries(m.bytes)
        .map(([k, v]) => `${k} ${formatBytes(v)}`)
        .join(', ')}`,
    );
  }
  const p = s.partitions;
  if (p.scheme !== 'none') {
    lines.push(`  partitions (${p.scheme}, ${p.sectorSize}-byte sectors):`);
    for (const q of p.partitions)
      lines.push(
        `    ${String(q.number).padStart(3)}  start ${q.start / 512} size ${q.size / 512} sectors  type ${q.type}${q.name ? `  "${q.name}"` : ''}${q.extended ? '  (extended)' : ''}`,
      );
    for (const w of p.warnings) lines.push(`  warning: ${w}`);
  }
  return lines.join('\n') + '\n';
}
