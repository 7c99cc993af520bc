/**
 * Counted problems of one ingest run (the perfetto "stats" idea): a malformed or unsupported line
 * or record increments a named counter and parsing goes on. Each counter has a severity, a
 * description, and keeps the first few examples with their file:line (or byte offset).
 */
import { printable } from './printable.js';

export type Severity = 'info' | 'data_loss' | 'error';

export interface CounterExample {
  file: string;
  /** 1-based line number for text inputs. */
  line?: number;
  /** Byte offset for binary inputs. */
  offset?: number;
  /** The offending text (truncated) or a description. */
  text: string;
}

export interface Counter {
  name: string;
  severity: Severity;
  description: string;
  count: number;
  examples: CounterExample[];
}

const MAX_EXAMPLES = 5;
const MAX_EXAMPLE_CHARS = 160;

export class IngestStats {
  private readonly counters = new Map<string, Counter>();

  /**
   * Count one occurrence of `name` (or `by` of them, e.g. "[LOST 120 EVENTS]"). The first call for
   * a name fixes its severity and description.
   */
  count(name: string, severity: Severity, description: string, example?: CounterExample, by = 1): void {
    let c = this.counters.get(name);
    if (!c) {
      c = { name, severity, description, count: 0, examples: [] };
      this.counters.set(name, c);
    }
    c.count += by;
    if (example && c.examples.length < MAX_EXAMPLES) {
      const text = example.text.length > MAX_EXAMPLE_CHARS ? example.text.slice(0, MAX_EXAMPLE_CHARS) + '…' : example.text;
      c.examples.push({ ...example, text: printable(text) });
    }
  }

  /** Merge another run's counters into this one. */
  merge(other: IngestStats): void {
    for (const c of other.list()) {
      const mine = this.counters.get(c.name);
      if (!mine) {
        this.counters.set(c.name, { ...c, examples: [...c.examples] });
        continue;
      }
      mine.count += c.count;
      for (const e of c.examples) if (mine.examples.length < MAX_EXAMPLES) mine.examples.push(e);
    }
  }

  /** Counters as `list()` gave them (another thread's, for example). */
  static fromCounters(list: readonly Counter[]): IngestStats {
    const s = new IngestStats();
    for (const c of list) s.counters.set(c.name, { ...c, examples: c.examples.map((e) => ({ ...e })) });
    return s;
  }

  get(name: string): number {
    return this.counters.get(name)?.count ?? 0;
  }
  list(): Counter[] {
    return [...this.counters.values()].sort((a, b) => b.count - a.count);
  }
  /** Total count of the counters with the given severity. */
  total(severity?: Severity): number {
    let n = 0;
    for (const c of this.counters.values()) if (!severity || c.severity === severity) n += c.count;
    return n;
  }
  /** True when an error-severity counter is nonzero: the run should fail. */
  get failed(): boolean {
    return this.total('error') > 0;
  }
  toJSON(): Counter[] {
    return this.list();
  }

  /** Human-readable lines for a summary. */
  format(): string[] {
    return this.list().map((c) => {
      const ex = c.examples[0];
      const where = ex
        ? ` (first at ${ex.file}${ex.line !== undefined ? ':' + ex.line : ''}${ex.offset !== undefined ? '@' + ex.offset : ''}: ${ex.text})`
        : '';
      return `${c.count.toString().padStart(10)}  ${c.name} [${c.severity}] ${c.description}${where}`;
    });
  }
}
