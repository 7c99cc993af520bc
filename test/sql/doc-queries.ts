/** Test helper: the named queries of docs/sql.md (`<!-- query: NAME -->` before a sql block). */
import { readFileSync } from 'node:fs';

export function docQueries(): Map<string, string> {
  const text = readFileSync('docs/sql.md', 'utf8');
  const queries = new Map<string, string>();
  for (const m of text.matchAll(/<!-- query: ([\w-]+) -->\s*```sql\n([\s\S]*?)```/g)) queries.set(m[1]!, m[2]!);
  return queries;
}

export function docQuery(name: string): string {
  const q = docQueries().get(name);
  if (!q) throw new Error(`docs/sql.md: no query named ${name} (expected <!-- query: ${name} --> before a sql block)`);
  return q;
}
