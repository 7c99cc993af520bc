/**
 * The tables of one capture as notebooks see them: every `<table>.arrow` written by `iolineage
 * ingest` / `iolineage analyze` in one output folder (and its immediate subfolders, e.g. out/block
 * as `npm start` writes it), plus summary.json when present. Tables are read on first use.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { readArrowFile } from '../table/arrow-file.js';
import { InputError, UsageError } from '../util/errors.js';

export interface Capture {
  /** The folder the tables were found in (absolute). */
  readonly dir: string;
  /** Table name → file, for every table found. */
  readonly files: ReadonlyMap<string, string>;
  /** summary.json of `iolineage analyze`, when present. */
  readonly summary: Record<string, unknown> | null;
  has(name: string): boolean;
  /** The table (read once, then cached); throws a UsageError naming what is there when absent. */
  table(name: string): Table;
  /** The first of these tables that the capture has (e.g. block_requests, else guest_requests). */
  firstOf(names: readonly string[]): { name: string; table: Table };
}

/**
 * Where a notebook's tables are: the argument, else $IOLINEAGE_OUT, else $IOLINEAGE_CAPTURE, else
 * `out` of the project (notebooks run in notebooks/, so `../out`).
 */
export function captureDir(dir?: string): string {
  const chosen = dir ?? process.env.IOLINEAGE_OUT ?? process.env.IOLINEAGE_CAPTURE;
  if (chosen) return resolve(chosen);
  return basename(process.cwd()) === 'notebooks' ? resolve('..', 'out') : resolve('out');
}

export function openCapture(dir?: string): Capture {
  const root = captureDir(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`no capture tables at ${root}: run \`npm start\` (ingests the bundled capture into out/), `
      + 'or `iolineage ingest FILE -o DIR` / `iolineage analyze CAPTURE -o DIR` and set IOLINEAGE_OUT=DIR');
  }
  const files = new Map<string, string>();
  const scan = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (f.endsWith('.arrow') && statSync(p).isFile()) {
        const name = f.slice(0, -'.arrow'.length);
        if (!files.has(name)) files.set(name, p);
      }
    }
  };
  scan(root);
  for (const sub of readdirSync(root).sort()) {
    const p = join(root, sub);
    if (statSync(p).isDirectory()) scan(p);
  }
  if (files.size === 0) {
    throw new UsageError(`no .arrow tables in ${root} or its subfolders: run \`iolineage ingest FILE -o ${root}\` first`);
  }
  let summary: Record<string, unknown> | null = null;
  const summaryPath = [join(root, 'summary.json'), ...[...files.values()].map((p) => join(p, '..', 'summary.json'))].find((p) => existsSync(p));
  if (summaryPath) {
    try {
      summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(summaryPath, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const cache = new Map<string, Table>();
  return {
    dir: root,
    files,
    summary,
    has: (name) => files.has(name),
    table(name) {
      const hit = cache.get(name);
      if (hit) return hit;
      const path = files.get(name);
      if (!path) {
        throw new UsageError(`capture ${root} has no ${name} table (has: ${[...files.keys()].join(', ')})`);
      }
      const t = readArrowFile(path);
      cache.set(name, t);
      return t;
    },
    firstOf(names) {
      const name = names.find((n) => files.has(n));
      if (!name) throw new UsageError(`capture ${root} has none of the tables ${names.join(', ')} (has: ${[...files.keys()].join(', ')})`);
      return { name, table: this.table(name) };
    },
  };
}

/** A path for display: relative to the working directory when shorter. */
export function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && r.length < p.length ? r : p;
}
