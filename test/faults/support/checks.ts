/**
 * Soft assertions: every check of a long run is evaluated and every failure reported at
 * once, so one broken promise does not hide the state of the others.
 */
export class Checks {
  private readonly failures: string[] = [];
  private count = 0;

  /** Runs the assertion (Jest's expect, or anything that throws) and remembers a failure. */
  check(label: string, assertion: () => void): void {
    this.count += 1;
    try {
      assertion();
    } catch (error) {
      this.failures.push(`✕ ${label}\n${error instanceof Error ? error.message : String(error)}`);
    }
  }

  passed(): boolean {
    return this.failures.length === 0;
  }

  /** Throws one error listing every failed check. */
  assertAll(): void {
    if (this.failures.length > 0) {
      throw new Error(`${this.failures.length} of ${this.count} checks failed:\n\n${this.failures.join('\n\n')}`);
    }
  }
}

/** The first few items and how many there are in all, for readable failure messages. */
export function firstFew<T>(items: T[], shown = 8): { count: number; first: T[] } {
  return { count: items.length, first: items.slice(0, shown) };
}
