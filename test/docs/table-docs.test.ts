import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// npm test builds first, so dist/ holds the current schemas.
describe('docs/tables.md', () => {
  it('is generated from the current table schemas', () => {
    let out = '';
    let ok = true;
    try {
      out = execFileSync(process.execPath, ['scripts/gen-table-docs.mjs', '--check'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      ok = false;
      out = String((e as { stderr?: string }).stderr);
    }
    expect(out, 'run: npm run build && node scripts/gen-table-docs.mjs').not.toMatch(/stale/);
    expect(ok).toBe(true);
  });
});
