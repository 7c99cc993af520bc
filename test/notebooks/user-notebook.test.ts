/**
 * A notebook written the way a user would write one (not a shipped one): apache-arrow and Arquero
 * imported, the bundled analysis opened, lineage joined with app_io, guest and host bytes summed per
 * outcome and per file with Arquero arithmetic on the 64-bit columns, a Vega-Lite chart drawn. It is
 * executed with the project kernel, and its numbers are checked against a plain loop over the
 * columns of apache-arrow's own reader.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeNotebook, figures, haveJupyter, printed, problems, projectRoot, writeNotebook } from './notebook-runner.js';

const bundle = join(projectRoot, 'data', 'm128-buffered');

describe.skipIf(!haveJupyter || !existsSync(bundle))('a notebook a user writes', () => {
  let work: string;
  let path: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'iol-user-notebook-'));
    const r = spawnSync(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'analyze', bundle, '-o', work], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`analyze: ${r.stderr.slice(-1500)}`);
    path = writeNotebook('_user-notebook-test.ipynb', [
      `import * as arrow from "apache-arrow";
import * as aq from "arquero";
import * as iol from "../dist/index.js";
const capture = iol.openCapture();
const lineageTable: arrow.Table = capture.table("lineage");
const lineage = aq.fromArrow(lineageTable);
const app = aq.fromArrow(capture.table("app_io")).select({ id: "app_id", path: "path" });`,
      `const joined = lineage.join(app, "app_id");
const perOutcome = joined.groupby("outcome").rollup({ guest: aq.op.sum("guest_bytes"), host: aq.op.sum("host_bytes"), mib: (d) => aq.op.sum(d.guest_bytes) / 1024 / 1024 }).orderby("outcome");
const perFile = joined.groupby("path").rollup({ guest: aq.op.sum("guest_bytes"), host: aq.op.sum("host_bytes") }).orderby("path");
console.log("OUTCOMES " + JSON.stringify(perOutcome.objects()));
console.log("FILES " + JSON.stringify(perFile.objects()));`,
      `await iol.show({ title: "guest bytes per outcome", data: { values: perOutcome.objects() }, mark: "bar",
  encoding: { x: { field: "outcome", type: "nominal" }, y: { field: "mib", type: "quantitative" } } });`,
    ]);
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    if (path) rmSync(path, { force: true });
  });

  it('runs in the kernel, and its Arquero sums equal a plain loop over the reference reader', async () => {
    const nb = await executeNotebook(path, { IOLINEAGE_OUT: work });
    expect(problems(nb)).toEqual([]);
    const out = printed(nb);
    const outcomes = JSON.parse(/OUTCOMES (.*)/.exec(out)![1]!) as { outcome: string; guest: number; host: number }[];
    const files = JSON.parse(/FILES (.*)/.exec(out)![1]!) as { path: string; guest: number; host: number }[];

    const lineage = arrow.tableFromIPC(readFileSync(join(work, 'lineage.arrow')));
    const appIo = arrow.tableFromIPC(readFileSync(join(work, 'app_io.arrow')));
    const pathOf = new Map<number, string>();
    for (let i = 0; i < appIo.numRows; i++) pathOf.set(appIo.getChild('id')!.get(i) as number, appIo.getChild('path')!.get(i) as string);
    const byOutcome = new Map<string, { guest: bigint; host: bigint }>();
    const byFile = new Map<string, { guest: bigint; host: bigint }>();
    for (let i = 0; i < lineage.numRows; i++) {
      const id = lineage.getChild('app_id')!.get(i) as number;
      if (!pathOf.has(id)) continue;
      const g = lineage.getChild('guest_bytes')!.get(i) as bigint, h = lineage.getChild('host_bytes')!.get(i) as bigint;
      for (const [map, key] of [[byOutcome, lineage.getChild('outcome')!.get(i) as string], [byFile, pathOf.get(id)!]] as const) {
        const s = map.get(key) ?? { guest: 0n, host: 0n };
        s.guest += g; s.host += h;
        map.set(key, s);
      }
    }
    expect(outcomes.length).toBe(byOutcome.size);
    for (const r of outcomes) {
      expect(BigInt(r.guest), r.outcome).toBe(byOutcome.get(r.outcome)!.guest);
      expect(BigInt(r.host), r.outcome).toBe(byOutcome.get(r.outcome)!.host);
    }
    expect(files.length).toBe(byFile.size);
    for (const r of files) {
      expect(BigInt(r.guest), r.path).toBe(byFile.get(r.path)!.guest);
      expect(BigInt(r.host), r.path).toBe(byFile.get(r.path)!.host);
    }
    const [chart] = figures(nb);
    expect(chart!.title).toBe('guest bytes per outcome');
    expect(chart!.rows.length).toBe(byOutcome.size);
  }, 300_000);
});
