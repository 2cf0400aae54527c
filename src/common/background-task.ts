/**
 * A piece of background work run every `everyMs` and whenever `kick()` asks, never twice
 * at once in this process: a kick during a run makes one more run right after it.
 * `stop()` ends the timer and waits for the run in progress. (@nestjs/schedule's
 * intervals neither skip an overlapping run nor take a kick, nor wait on shutdown.)
 */
export class BackgroundTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly everyMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.everyMs).unref();
    this.kick();
  }

  /** Runs the work now, or right after the run in progress. */
  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** True once `stop()` was called: long work checks it between its steps. */
  get stopping(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.work();
      } catch (error) {
        this.onError(error);
      }
    } while (this.again && !this.stopped);
  }
}
