/** SQL quoting (standard SQL, as DuckDB reads it), in a module of its own: no DuckDB is loaded to quote a name. */

/** Quote an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote an SQL string literal. */
export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
