// Generates docs/manifest.md from the manifest's declaration in dist/capture/manifest.js (run after
// the build). Usage: node scripts/gen-manifest-docs.mjs [--check]   --check exits 1 when it is stale.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'manifest.md');

export async function renderManifestDocs() {
  const { manifestSchema, MANIFEST_FILE } = await import(pathToFileURL(join(root, 'dist', 'capture', 'manifest.js')).href);
  const { jsonSchemaDocs } = await import(pathToFileURL(join(root, 'dist', 'capture', 'json-schema.js')).href);
  return [
    '# The capture manifest',
    '',
    `Generated from \`src/capture/manifest.ts\` by \`node scripts/gen-manifest-docs.mjs\`; do not edit by hand.`,
    `A capture bundle is a directory of trace and metadata files plus \`${MANIFEST_FILE}\`, which names every`,
    'file by its role (`iolineage lab` and `capture/*.sh` write it; `iolineage analyze BUNDLE` reads it).',
    'Bundle paths are relative to the bundle directory; nanosecond clock readings are decimal strings',
    '(they pass 2^53); sizes are JSON numbers. A field marked "absent:" may be missing in older',
    'manifests and reads as that value. Errors name the field path, e.g.',
    '`manifest.json ($.guests[0].disk.dev): expected "MAJ:MIN", got "vda"`.',
    '',
    ...jsonSchemaDocs(manifestSchema),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await renderManifestDocs();
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(target, 'utf8');
    } catch {
      /* missing */
    }
    if (have !== text) {
      process.stderr.write('docs/manifest.md is stale: run npm run build && node scripts/gen-manifest-docs.mjs\n');
      process.exit(1);
    }
  } else {
    writeFileSync(`${target}.tmp`, text);
    renameSync(`${target}.tmp`, target);
  }
}
