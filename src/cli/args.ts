/**
 * Option parsing shared by the commands: node:util parseArgs with errors turned into UsageError.
 */
import { statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, UsageError } from '../util/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: string, argv: string[], options: OptionSpec): ParsedArgs {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as ParsedArgs['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${command}: ${e instanceof Error ? e.message : String(e)} (see --help)`);
  }
}

/** Parse "MAJ:MIN" (or "MAJ,MIN") into the canonical "MAJ:MIN" text. */
export function parseDevArg(text: string): string {
  const m = /^(\d+)[:,](\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`device "${text}": expected MAJ:MIN, e.g. 7:2`);
  return `${Number(m[1])}:${Number(m[2])}`;
}

/** An input that must be a file (or device): a directory or a missing path is an InputError naming it. */
export function requireFile(path: string): void {
  let st;
  try { st = statSync(path); } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (st.isDirectory()) throw new InputError(path, 'is a directory: expected a trace or log file (give the files inside it, e.g. DIR/*)');
}

/** An input that must be a directory (a capture bundle): a file or a missing path is an InputError naming it. */
export function requireDirectory(path: string, what: string): void {
  let st;
  try { st = statSync(path); } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!st.isDirectory()) throw new InputError(path, `is a file: expected ${what}`);
}
