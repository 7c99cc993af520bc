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

/**
 * A command's options as a table: each option's kind says how its text is checked and what value it
 * becomes, so a command reads typed values instead of validating strings one line at a time.
 */
export type OptionKind =
  | { kind: 'string'; short?: string }
  | { kind: 'strings' }
  | { kind: 'boolean' }
  | { kind: 'choice'; choices: readonly string[]; dflt?: string }
  | { kind: 'nanoseconds' }
  | { kind: 'integer'; min: number; what: string }
  | { kind: 'dev' };

type ValueOf<K extends OptionKind> = K extends { kind: 'strings' }
  ? string[]
  : K extends { kind: 'boolean' }
    ? boolean
    : K extends { kind: 'choice'; choices: readonly (infer C)[]; dflt: string }
      ? C
      : K extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C | undefined
        : K extends { kind: 'nanoseconds' }
          ? bigint | undefined
          : K extends { kind: 'integer' }
            ? number | undefined
            : string | undefined;

export type OptionValues<T extends Record<string, OptionKind>> = { [N in keyof T]: ValueOf<T[N]> };

export const option = {
  string: (short?: string) => ({ kind: 'string' as const, ...(short ? { short } : {}) }),
  strings: () => ({ kind: 'strings' }) as const,
  boolean: () => ({ kind: 'boolean' }) as const,
  /** One of `choices`; undefined when not given. */
  choice: <const C extends string>(choices: readonly C[]) => ({ kind: 'choice' as const, choices }),
  /** One of `choices`; `dflt` when not given. */
  choiceOr: <const C extends string>(choices: readonly C[], dflt: C) => ({ kind: 'choice' as const, choices, dflt }),
  /** An integer number of nanoseconds, possibly negative (a clock offset): BigInt, never rounded. */
  nanoseconds: () => ({ kind: 'nanoseconds' }) as const,
  integer: (min: number, what: string) => ({ kind: 'integer' as const, min, what }),
  /** A device "MAJ:MIN" (or "MAJ,MIN"), given back as "MAJ:MIN". */
  dev: () => ({ kind: 'dev' }) as const,
};

function convertOption(name: string, k: OptionKind, raw: string | boolean | (string | boolean)[] | undefined): unknown {
  switch (k.kind) {
    case 'strings':
      return (raw as string[] | undefined) ?? [];
    case 'boolean':
      return raw === true;
    case 'string':
      return raw as string | undefined;
    case 'dev':
      return raw === undefined ? undefined : parseDevArg(raw as string);
    case 'choice': {
      const v = (raw as string | undefined) ?? k.dflt;
      if (v !== undefined && !k.choices.includes(v)) throw new UsageError(`--${name}: expected ${k.choices.join(' or ')}, got "${v}"`);
      return v;
    }
    case 'nanoseconds': {
      if (raw === undefined) return undefined;
      const v = (raw as string).trim();
      if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name}: expected an integer number of nanoseconds, got "${raw as string}"`);
      return BigInt(v);
    }
    case 'integer': {
      if (raw === undefined) return undefined;
      const v = (raw as string).trim();
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < k.min)
        throw new UsageError(`--${name}: expected ${k.what}, got "${raw as string}"`);
      return Number(v);
    }
  }
}

/** Parse `argv` against an option table; values come back checked and typed. */
export function parseOptions<const T extends Record<string, OptionKind>>(
  command: string,
  argv: string[],
  table: T,
): { values: OptionValues<T>; positionals: string[] } {
  const spec: OptionSpec = {};
  for (const [name, k] of Object.entries(table)) {
    spec[name] =
      k.kind === 'boolean'
        ? { type: 'boolean' }
        : k.kind === 'strings'
          ? { type: 'string', multiple: true }
          : k.kind === 'string' && k.short
            ? { type: 'string', short: k.short }
            : { type: 'string' };
  }
  const { values, positionals } = parseCommandArgs(command, argv, spec);
  const out: Record<string, unknown> = {};
  for (const [name, k] of Object.entries(table)) out[name] = convertOption(name, k, values[name]);
  return { values: out as OptionValues<T>, positionals };
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
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (st.isDirectory()) throw new InputError(path, 'is a directory: expected a trace or log file (give the files inside it, e.g. DIR/*)');
}

/** An input that must be a directory (a capture bundle): a file or a missing path is an InputError naming it. */
export function requireDirectory(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!st.isDirectory()) throw new InputError(path, `is a file: expected ${what}`);
}
