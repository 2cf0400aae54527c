import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EnvironmentVariables } from '../../../src/config/environment';
import { findFreePort } from '../../../src/database/embedded-postgres';
import { TEST_JWT_SECRET } from '../../support/test-app';

/** The built app, started exactly as `npm run start:prod` starts it. */
export const APP_ENTRY = resolve(__dirname, '..', '..', '..', 'dist', 'src', 'main.js');
/** The flags of `npm run start:prod` (package.json), checked by src/lifecycle/node-flags.spec.ts. */
const NODE_ARGUMENTS = ['--max-semi-space-size=4', '--max-old-space-size=256'];

/** Lines of output kept per process, to explain a failure. */
const KEPT_LINES = 400;

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\u001b\[[0-9;]*m/g;

/** Variables the app reads that have no default, so `new EnvironmentVariables()` does not list them. */
const VARIABLES_WITHOUT_DEFAULT = ['DATABASE_URL', 'JWT_SECRET', 'REDIS_URL', 'LOG_FORMAT'];

export interface ExitReport {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal sent by `stop()` to the exit; undefined when the process exited on its own. */
  shutdownMs?: number;
  /** Whether `stop()` had to SIGKILL it because it did not exit in time. */
  killed: boolean;
}

export interface AppProcessOptions {
  name: string;
  /** A fixed port (to restart on the same one); a free port when unset. */
  port?: number;
  /** Variables on top of the test defaults; undefined removes one. */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}

const running = new Set<AppProcess>();
let exitHookInstalled = false;

/** Fails with the way to build when the app was not built. */
export function assertAppBuilt(): void {
  if (!existsSync(APP_ENTRY)) {
    throw new Error(`dist/src/main.js is missing (${APP_ENTRY}): run npm run test:faults (it builds first)`);
  }
}

/**
 * The built app as a child process on 127.0.0.1, in a scratch working directory (so no
 * developer `.env` is read) with a scratch DATA_DIR, in production mode with the test secret.
 */
export class AppProcess {
  readonly url: string;
  readonly startedAt = performance.now();
  /** How long the start took, until ready. */
  startupMs?: number;
  exitReport?: ExitReport;

  private readonly output: string[] = [];
  private readonly exited: Promise<ExitReport>;
  private stopRequested = false;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly scratchDir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const collect = (stream: string) => (chunk: Buffer) => {
      // Colours are for terminals; the tail is read in a test report.
      for (const line of chunk.toString('utf8').replace(ANSI_ESCAPES, '').split('\n')) {
        if (line.trim()) {
          this.output.push(stream === 'stderr' ? `[stderr] ${line}` : line);
        }
      }
      if (this.output.length > KEPT_LINES) {
        this.output.splice(0, this.output.length - KEPT_LINES);
      }
    };
    child.stdout?.on('data', collect('stdout'));
    child.stderr?.on('data', collect('stderr'));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        running.delete(this);
        this.exitReport = { code, signal, killed: false };
        if (!this.stopRequested) {
          console.error(
            `${this.name} (pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal}):\n${this.logTail()}`,
          );
        }
        void rm(this.scratchDir, { recursive: true, force: true });
        resolveExit(this.exitReport);
      }),
    );
  }

  /** Starts the app and resolves once it is ready; rejects with its log tail otherwise. */
  static async start(options: AppProcessOptions): Promise<AppProcess> {
    assertAppBuilt();
    installExitHook();
    const port = options.port ?? (await findFreePort());
    const scratchDir = await mkdtemp(join(tmpdir(), 'posts-api-faults-'));
    const child = spawn(process.execPath, [...NODE_ARGUMENTS, APP_ENTRY], {
      cwd: scratchDir,
      env: appEnvironment({ PORT: String(port), DATA_DIR: join(scratchDir, 'data'), ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(options.name, port, child, scratchDir);
    running.add(app);
    await app.waitUntilReady(options.readyTimeoutMs ?? 30_000);
    app.startupMs = Math.round(performance.now() - app.startedAt);
    return app;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  isRunning(): boolean {
    return this.exitReport === undefined;
  }

  /** The last lines the process printed, stdout and stderr interleaved. */
  logTail(lines = 60): string {
    const tail = this.output.slice(-lines);
    return tail.length > 0 ? tail.join('\n') : '(no output)';
  }

  /**
   * Polls GET /health/ready until it answers 200, failing early when the process exits.
   */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.exitReport) {
        throw new Error(
          `${this.name} exited during start (code ${this.exitReport.code}, signal ${this.exitReport.signal}):\n` +
            this.logTail(),
        );
      }
      const ready = await probeStatus(`${this.url}/health/ready`);
      if (ready === 200) {
        return;
      }
      await sleep(100);
    }
    throw new Error(
      `${this.name} was not ready on ${this.url}/health/ready within ${timeoutMs} ms:\n${this.logTail()}`,
    );
  }

  /** Sends the signal and waits for the exit, SIGKILLing after `killAfterMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000): Promise<ExitReport> {
    if (this.exitReport) {
      return this.exitReport;
    }
    this.stopRequested = true;
    const sentAt = performance.now();
    this.child.kill(signal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, killAfterMs);
    const report = await this.exited;
    clearTimeout(timer);
    this.exitReport = { ...report, shutdownMs: Math.round(performance.now() - sentAt), killed };
    return this.exitReport;
  }

  /** Waits for the process to exit (after a signal sent by someone else). */
  whenExited(): Promise<ExitReport> {
    return this.exited;
  }
}

/** Stops every app process still running (SIGKILL): for afterAll, so Jest never waits on one. */
export async function killAllAppProcesses(): Promise<void> {
  await Promise.all([...running].map((app) => app.stop('SIGKILL')));
}

/**
 * The child's environment: this process's environment less every variable the app reads,
 * plus production defaults for a test (JSON logs, the test secret, cheap bcrypt, limits
 * high enough that one client address sending all the requests is not refused).
 */
export function appEnvironment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const appVariables = new Set([...Object.keys(new EnvironmentVariables()), ...VARIABLES_WITHOUT_DEFAULT]);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!appVariables.has(name)) {
      env[name] = value;
    }
  }
  const settings: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    LOGIN_MAX_ATTEMPTS_PER_CLIENT: '100000',
    RATE_LIMIT_MAX: '10000000',
    // Production needs an SMTP server; nothing listens on port 1, so mails wait in the
    // outbox (retried with backoff). The mail tests start a real one and pass its URL.
    SMTP_URL: 'smtp://127.0.0.1:1',
    ...overrides,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) {
      delete env[name];
    } else {
      env[name] = value;
    }
  }
  return env;
}

/**
 * Runs a test body and, when it fails, appends the log tails of the processes to the
 * error, so a failed assertion shows what the apps said.
 */
export async function withLogsOnFailure(apps: () => (AppProcess | undefined)[], body: () => Promise<void>) {
  try {
    await body();
  } catch (error) {
    const tails = apps()
      .filter((app): app is AppProcess => app !== undefined)
      .map((app) => `--- ${app.name} (pid ${app.pid}, port ${app.port}) ---\n${app.logTail(40)}`)
      .join('\n');
    if (error instanceof Error) {
      error.message = `${error.message}\n\nLog tails:\n${tails}`;
    }
    throw error;
  }
}

function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Whatever happens to the test run, no app outlives it.
    process.once('exit', () => {
      for (const app of running) {
        app.stop('SIGKILL').catch(() => undefined);
      }
    });
  }
}

/** The status of GET url on a new connection, or undefined when nothing answers within 2 s. */
function probeStatus(url: string): Promise<number | undefined> {
  return new Promise((resolveStatus) => {
    const request = get(url, { agent: false, timeout: 2_000 }, (response) => {
      response.resume();
      response.on('end', () => resolveStatus(response.statusCode));
      response.on('error', () => resolveStatus(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolveStatus(undefined));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
