import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// npm test builds first, so dist/ holds the current manifest declaration.
describe('docs/manifest.md', () => {
  it('is generated from the manifest declaration', () => {
    let ok = true;
    let err = '';
    try {
      execFileSync(process.execPath, ['scripts/gen-manifest-docs.mjs', '--check'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      ok = false;
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err, 'run: npm run build && node scripts/gen-manifest-docs.mjs').toBe('');
    expect(ok).toBe(true);
  });
});
