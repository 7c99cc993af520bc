/**
 * A progress bar on stderr for long inputs. Silent when stderr is not a TTY (pipes, CI, tests)
 * or when IOLINEAGE_NO_PROGRESS is set.
 */
export class ProgressBar {
  private last = 0;
  private readonly enabled: boolean;
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    this.enabled = Boolean(process.stderr.isTTY) && !process.env.IOLINEAGE_NO_PROGRESS && total > 0;
  }
  /** Report `done` out of `total` units (redrawn at most 10 times a second). */
  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const frac = Math.min(1, done / this.total);
    const width = 30;
    const full = Math.round(frac * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(full)}${' '.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
  }
  done(): void {
    if (this.enabled) process.stderr.write('\r' + ' '.repeat(this.label.length + 40) + '\r');
  }
}
