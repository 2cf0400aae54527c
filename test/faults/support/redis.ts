import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { findFreePort } from '../../../src/database/embedded-postgres';
import { sleep } from './app-process';

/**
 * The faults tests keep their keys in a database index of their own, away from the e2e
 * tests' keys in index 0. Nothing is flushed: every test that counts per client sends from
 * a random loopback address of its own (see randomLoopbackAddress), and keys expire.
 */
const FAULTS_REDIS_DATABASE = 5;

export interface TestRedis {
  url: string;
  stop: () => Promise<void>;
}

/**
 * The Redis the instances share: TEST_REDIS_URL (CI sets it; the global setup sets it when a
 * Redis answers on 127.0.0.1:6379) with the faults database index; otherwise a throw-away
 * `redis-server` on a free port when one is installed; otherwise the run fails and says so.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const shared = process.env.TEST_REDIS_URL;
  if (shared) {
    const url = new URL(shared);
    url.pathname = `/${FAULTS_REDIS_DATABASE}`;
    return { url: url.toString(), stop: () => Promise.resolve() };
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      'These tests need a Redis: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379), run one on 127.0.0.1:6379, ' +
        'or install redis-server so the tests can start their own.',
    );
  }
  const port = await findFreePort();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const deadline = performance.now() + 10_000;
  while (!(await answersPing(port))) {
    if (performance.now() > deadline || server.exitCode !== null) {
      server.kill('SIGKILL');
      throw new Error(`The throw-away redis-server on port ${port} did not answer PING`);
    }
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}/${FAULTS_REDIS_DATABASE}`,
    stop: async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await exited;
      }
    },
  };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
