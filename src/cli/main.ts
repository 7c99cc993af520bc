#!/usr/bin/env node
/**
 * The iolineage command: a thin dispatcher over one module per command. Each command module
 * exports `run(argv): Promise<number>` (the exit code) and `help` (its usage text).
 */
import { readFileSync } from 'node:fs';
import { environmentProblem, isUserError } from '../util/errors.js';
import { printable } from '../util/printable.js';

/**
 * A command module. `handlesHelp`: the command prints its own help for `--help` anywhere in its
 * arguments (commands with subcommands, whose help depends on the subcommand).
 */
interface CommandModule {
  run(argv: string[]): Promise<number>;
  help: string;
  handlesHelp?: boolean;
}

/** One line per command; the module is loaded only when the command runs. */
const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  ingest: {
    summary: 'block traces (tracefs, trace-cmd, blkparse, blktrace) and strace logs into Arrow tables, with a summary',
    load: () => import('./ingest.js'),
  },
  btt: {
    summary: 'btt-style latency stages, merge ratio and seeks from binary blktrace (split bios followed piece by piece)',
    load: () => import('./btt.js'),
  },
  map: {
    summary: 'map an ext2/3/4 file system (map fs) or a disk image (map image): every block to its owner',
    load: () => import('./map.js'),
  },
  lookup: {
    summary: 'who owns these sectors of a file system (kind, inode, path, file offset), or where a file lies',
    load: () => import('./lookup.js'),
  },
  whatif: { summary: 'predict guest-disk and host-disk bytes for other VM memory and host cache sizes', load: () => import('./whatif.js') },
  lab: { summary: 'build the study environment (host fs, image, guest, workload) and capture it', load: () => import('./lab.js') },
  analyze: {
    summary: 'cross-layer lineage: link app I/Os to guest and host block requests, attribute every byte, metrics',
    load: () => import('./analyze.js'),
  },
  export: {
    summary: 'write the tables of an output as Parquet or CSV, or several runs as one Hive-partitioned dataset',
    load: () => import('./export.js'),
  },
  sql: {
    summary: 'SQL (embedded DuckDB) over the tables of one or more outputs: aligned table, CSV or JSON',
    load: () => import('./sql.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'usage: iolineage <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
    '',
    'Run `iolineage <command> --help` for the options of a command, `iolineage --version` for the version.',
  ].join('\n');
}

/** The version in the package.json beside dist/ (npm always ships package.json). */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown (no package.json beside the built files)';
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`iolineage ${version()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`iolineage: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await cmd.load();
  if (!mod.handlesHelp && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(mod.help + '\n');
    return 0;
  }
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      // messages quote input text: nothing in it may drive the terminal
      process.stderr.write(`iolineage: ${printable(e.message).replaceAll('\\x0a', '\n')}\n`);
      process.exitCode = e.name === 'UsageError' ? 2 : 1;
    } else if (environmentProblem(e) !== null) {
      process.stderr.write(`iolineage: ${printable(environmentProblem(e)!)}\n`);
      process.exitCode = 1;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`iolineage: internal error: ${printable(msg).replaceAll('\\x0a', '\n')}\n`);
      if (process.env.IOLINEAGE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      else process.stderr.write('(set IOLINEAGE_DEBUG=1 for a stack trace, and please report it)\n');
      process.exitCode = 70;
    }
  },
);
