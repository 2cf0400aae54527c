// Child processes of the run (the app, the baseline, the bcrypt probe): started with a
// known environment, watched until healthy, measured (/proc), and always stopped.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { onCleanup, onExit } from './cleanup.mjs';
import { mailSinkUrl } from './mail-sink.mjs';
import { PROJECT_DIR } from './options.mjs';
import { BENCH_PASSWORD } from './seed.mjs';

/** The built app, as `npm run start:prod` runs it. */
export const APP_ENTRY = join(PROJECT_DIR, 'dist', 'src', 'main.js');

const STOP_GRACE_MS = 10_000;

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A field of /proc/<pid>/status in kB (VmHWM = peak resident set, VmRSS = current). */
export function procStatusKb(pid, field) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/**
 * Starts `node [nodeArgs] <script>` and resolves once GET <healthPath> answers 200. Its output is
 * kept (last lines) to explain a failed start and to show what it logged under load. With
 * `stdoutFile`, its stdout goes straight to that file (as a deployed server's to a log
 * file or a collector: nobody here reads a pipe of it); only stderr is kept then.
 */
export async function startServer({
  name,
  script,
  nodeArgs = [],
  env,
  cwd,
  port,
  healthPath = '/health',
  timeoutMs = 60_000,
  stdoutFile,
}) {
  const stdoutFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w');
  let child;
  try {
    child = spawn(process.execPath, [...nodeArgs, script], {
      cwd,
      env,
      stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
    });
  } finally {
    // The child has its own copy of the descriptor.
    if (stdoutFd !== undefined) closeSync(stdoutFd);
  }
  const output = { lines: [], count: 0 };
  const collect = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) {
        output.count++;
        output.lines.push(line);
        if (output.lines.length > 30) output.lines.shift();
      }
    }
  };
  child.stdout?.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitStatus;
  exited.then((status) => (exitStatus = status));

  const server = {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output,
    /** Peak RSS in MB so far, from the kernel's high-water mark. */
    peakRssMb: () => kbToMb(procStatusKb(child.pid, 'VmHWM')),
    rssMb: () => kbToMb(procStatusKb(child.pid, 'VmRSS')),
    isRunning: () => exitStatus === undefined,
    stop: () => stopChild(child, exited, () => exitStatus !== undefined),
  };
  onCleanup(`stop ${name}`, server.stop);
  onExit(() => exitStatus === undefined && child.kill('SIGKILL'));

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitStatus !== undefined) {
      throw new Error(`${name} exited during start (${describeExit(exitStatus)}):\n${output.lines.join('\n')}`);
    }
    if (await isHealthy(`${server.url}${healthPath}`)) {
      return server;
    }
    await sleep(200);
  }
  throw new Error(`${name} did not answer ${healthPath} within ${timeoutMs / 1000} s:\n${output.lines.join('\n')}`);
}

async function isHealthy(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/** SIGTERM (the app shuts down gracefully on it), then SIGKILL if it takes too long. */
async function stopChild(child, exited, hasExited) {
  if (hasExited()) {
    return;
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Runs `node <script>` to completion and returns its stdout parsed as JSON. */
export function runJsonChild(script, { env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    onExit(() => child.exitCode === null && child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${script} failed (${describeExit({ code, signal })}): ${stderr.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`${script} printed no JSON: ${stdout.trim()} ${stderr.trim()}`));
      }
    });
  });
}

function describeExit({ code, signal }) {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function kbToMb(kb) {
  return kb === undefined ? undefined : Math.round((kb / 1024) * 10) / 10;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The built app in production mode on its own port, on the given database. It runs in a
 * scratch working directory, so the developer's .env cannot change the measured setup.
 */
export async function startApp({
  options,
  databaseUrl,
  jwtSecret,
  scratch,
  nodeArgs,
  env = {},
  name = 'app',
  stdoutFile,
}) {
  const smtpUrl = await mailSinkUrl();
  return freePort().then((port) =>
    startServer({
      name,
      script: APP_ENTRY,
      nodeArgs,
      cwd: scratch,
      port,
      stdoutFile,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        DATA_DIR: join(scratch, 'data'),
        JWT_SECRET: jwtSecret,
        LOG_LEVEL: 'warn',
        BCRYPT_ROUNDS: String(options.bcryptRounds),
        DATABASE_POOL_SIZE: String(options.poolSize),
        // All load comes from one address: the limit is counted (its cost is measured) but never reached.
        RATE_LIMIT_MAX: '100000000',
        SMTP_URL: smtpUrl,
        ...env,
      },
    }),
  );
}

/** POST /login as the OAuth2 form Swagger UI sends; returns the access token. */
export async function login(baseUrl, email) {
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: email, password: BENCH_PASSWORD }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`POST /login for ${email} answered ${response.status}: ${body}`);
  }
  return JSON.parse(body).access_token;
}
