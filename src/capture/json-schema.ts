/**
 * A JSON document's layout declared once: each field's type, its check and its doc in one place.
 * The TypeScript type comes from the declaration (`Infer`), the checker walks it (`checkJson`,
 * errors name the field path and state expected vs actual), and docs are rendered from it
 * (`jsonSchemaDocs`), as table-spec.ts does for the tables.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';

/** Where a document is checked: its file (for messages) and, when known, the directory its paths are relative to. */
export interface JsonCheckContext {
  file: string;
  dir: string | null;
}

export interface Field<T> {
  /** Type label in the docs, e.g. "string", "number >= 512", "`a` \| `b`". */
  readonly label: string;
  readonly doc: string;
  /** Value when the key is absent (older documents); undefined: the key is required. */
  readonly absent?: { value: T };
  /** Object fields, for nested docs. */
  readonly fields?: Readonly<Record<string, Field<unknown>>>;
  /** Element field of an array, for nested docs. */
  readonly element?: Field<unknown>;
  check(v: unknown, path: string, cx: JsonCheckContext): T;
}

export type Infer<F> = F extends Field<infer T> ? T : never;

function fail(cx: JsonCheckContext, path: string, message: string): never {
  throw new InputError(cx.file, message, { what: path });
}

/** How a JSON value reads in a message. */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  return typeof v === 'string' ? `the string "${v}"` : `a ${typeof v}`;
}

function field<T>(
  label: string,
  doc: string,
  check: (v: unknown, path: string, cx: JsonCheckContext) => T,
  extra: Partial<Field<T>> = {},
): Field<T> {
  return { label, doc, check, ...extra };
}

export function str(doc: string): Field<string> {
  return field('string', doc, (v, p, cx) => (typeof v === 'string' ? v : fail(cx, p, `expected a string, got ${jsonKind(v)}`)));
}

export function num(doc: string, min = 0): Field<number> {
  return field(`number >= ${min}`, doc, (v, p, cx) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(cx, p, `expected a number, got ${jsonKind(v)}`);
    if (v < min) fail(cx, p, `expected a number >= ${min}, got ${v}`);
    return v;
  });
}

export function bool(doc: string): Field<boolean> {
  return field('boolean', doc, (v, p, cx) => (typeof v === 'boolean' ? v : fail(cx, p, `expected true or false, got ${jsonKind(v)}`)));
}

export function oneOf<const T extends string>(allowed: readonly T[], doc: string): Field<T> {
  return field(allowed.map((a) => `\`${a}\``).join(' | '), doc, (v, p, cx) => {
    if (typeof v !== 'string') fail(cx, p, `expected a string, got ${jsonKind(v)}`);
    if (!(allowed as readonly string[]).includes(v)) fail(cx, p, `expected one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  });
}

/** Exactly `value`; `problem` says what another value means. */
export function literal<const T extends string | number>(value: T, doc: string, problem: (got: string) => string): Field<T> {
  return field(`\`${JSON.stringify(value)}\``, doc, (v, p, cx) => (v === value ? value : fail(cx, p, problem(jsonKind(v)))));
}

/** `"MAJ:MIN"`, as /sys/block/NAME/dev and the block tracepoints print a device. */
export function dev(doc: string): Field<string> {
  return field('"MAJ:MIN"', doc, (v, p, cx) => {
    const s = str('').check(v, p, cx);
    if (!/^\d+:\d+$/.test(s)) fail(cx, p, `expected "MAJ:MIN", got "${s}"`);
    return s;
  });
}

/** Nanoseconds as a decimal string (64-bit clock readings pass 2^53: not JSON numbers). */
export function ns(doc: string): Field<string> {
  return field('ns (decimal string)', doc, (v, p, cx) => {
    const s = str('').check(v, p, cx);
    if (!/^\d+$/.test(s)) fail(cx, p, `expected nanoseconds as a decimal string, got "${s}"`);
    return s;
  });
}

/** A path relative to the document's directory: no `..`, and (directory known) an existing non-empty file. */
export function file(doc: string): Field<string> {
  return field('bundle path', doc, (v, p, cx) => {
    const s = str('').check(v, p, cx);
    if (s === '' || s.startsWith('/') || s.split('/').includes('..'))
      fail(cx, p, `expected a path relative to the bundle directory, got "${s}"`);
    if (cx.dir !== null) {
      const full = join(cx.dir, s);
      if (!existsSync(full)) fail(cx, p, `file "${s}" named by the manifest does not exist in the bundle`);
      if (statSync(full).size === 0) fail(cx, p, `file "${s}" named by the manifest is empty`);
    }
    return s;
  });
}

export function nullable<T>(f: Field<T>): Field<T | null> {
  return { ...f, label: `${f.label} or null`, check: (v, p, cx) => (v === null ? null : f.check(v, p, cx)) } as Field<T | null>;
}

/** A key older documents may lack: read as `value` when absent. */
export function absentAs<T>(f: Field<T>, value: T): Field<T> {
  return { ...f, absent: { value } };
}

/**
 * A further check on a checked value: `problem` returns null, a message, or a message for a place
 * inside the value (`at` appended to the path, e.g. "[1].id").
 */
export function refine<T>(f: Field<T>, problem: (v: T) => string | { at: string; message: string } | null): Field<T> {
  return {
    ...f,
    check: (v, p, cx) => {
      const t = f.check(v, p, cx);
      const m = problem(t);
      if (m === null) return t;
      return typeof m === 'string' ? fail(cx, p, m) : fail(cx, `${p}${m.at}`, m.message);
    },
  };
}

export function arr<T>(element: Field<T>, doc: string): Field<T[]> {
  return field(
    `array of ${element.label}`,
    doc,
    (v, p, cx) => {
      if (!Array.isArray(v)) fail(cx, p, `expected an array, got ${jsonKind(v)}`);
      return v.map((e, i) => element.check(e, `${p}[${i}]`, cx));
    },
    { element: element as Field<unknown> },
  );
}

type Shape = Record<string, Field<unknown>>;
type ObjectOf<S extends Shape> = { -readonly [K in keyof S]: Infer<S[K]> };

/** An object with these keys in this order; extra keys are left out of the result. */
export function obj<S extends Shape>(fields: S, doc: string): Field<ObjectOf<S>> {
  return field(
    'object',
    doc,
    (v, p, cx) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(cx, p, `expected an object, got ${jsonKind(v)}`);
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, f] of Object.entries(fields)) {
        if (!(key in o)) {
          if (f.absent) {
            out[key] = f.absent.value;
            continue;
          }
          fail(cx, `${p}.${key}`, 'missing field');
        }
        out[key] = f.check(o[key], `${p}.${key}`, cx);
      }
      return out as ObjectOf<S>;
    },
    { fields },
  );
}

/** Check a parsed document against its declaration; throws InputError naming the field path. */
export function checkJson<T>(f: Field<T>, doc: unknown, cx: JsonCheckContext): T {
  return f.check(doc, '$', cx);
}

/** Markdown: one table per object, fields with type and doc, nested objects after their parent. */
export function jsonSchemaDocs(root: Field<unknown>, rootName = '$'): string[] {
  const out: string[] = [];
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const walk = (f: Field<unknown>, path: string) => {
    if (!f.fields) return;
    out.push(`### \`${path}\``, '', esc(f.doc), '', '| field | type | meaning |', '|---|---|---|');
    const nested: [Field<unknown>, string][] = [];
    for (const [key, c] of Object.entries(f.fields)) {
      const absent = c.absent ? ` (absent: ${JSON.stringify(c.absent.value)})` : '';
      out.push(`| \`${key}\` | ${esc(c.label)}${absent} | ${esc(c.doc)} |`);
      if (c.fields) nested.push([c, `${path}.${key}`]);
      else if (c.element?.fields) nested.push([c.element, `${path}.${key}[]`]);
    }
    out.push('');
    for (const [c, p] of nested) walk(c, p);
  };
  walk(root, rootName);
  return out;
}
