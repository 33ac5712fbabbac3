import cliProgress from "cli-progress";

/** Bars alive at once share one MultiBar (analyze runs several analyses together), one line each. */
let multi: cliProgress.MultiBar | null = null;
let live = 0;

/**
 * A progress bar on stderr with rate and ETA. When stderr is not a TTY it prints a plain line every
 * few seconds instead, so CI logs show progress without control characters.
 */
export class Progress {
  private bar?: cliProgress.SingleBar;
  private done = 0;
  private readonly start = Date.now();
  private lastLine = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    initial = 0,
  ) {
    this.done = initial;
    if (process.stderr.isTTY && !process.env.SEMPRESS_NO_BAR) {
      multi ??= new cliProgress.MultiBar(
        {
          format: "{label} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}",
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = multi.create(total, initial, { rate: "0.00", label });
      live++;
    }
  }
  tick(n = 1): void {
    this.done += n;
    const secs = (Date.now() - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    if (this.bar) {
      this.bar.update(this.done, { rate: rate.toFixed(2), label: this.label });
    } else if (Date.now() - this.lastLine > 5000 || this.done >= this.total) {
      this.lastLine = Date.now();
      const eta = rate > 0 ? Math.round((this.total - this.done) / rate) : -1;
      process.stderr.write(`${this.label}: ${this.done}/${this.total} | ${rate.toFixed(2)}/s | ETA ${eta >= 0 ? `${eta}s` : "?"}\n`);
    }
  }
  stop(): void {
    if (!this.bar) return;
    this.bar.update(this.done);
    this.bar = undefined;
    if (--live === 0) {
      multi?.stop();
      multi = null;
    }
  }
}
