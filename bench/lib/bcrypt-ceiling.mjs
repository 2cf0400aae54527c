// bcrypt's own rate on this machine at the configured cost: the most POST /login could
// ever do, since each login is one bcrypt compare plus a little work around it.
import { fileURLToPath } from 'node:url';
import { runJsonChild } from './processes.mjs';

const CHILD = fileURLToPath(new URL('./bcrypt-ceiling-child.mjs', import.meta.url));

export function measureBcryptCeiling({ rounds, seconds, threadpoolSize, concurrency }) {
  return runJsonChild(CHILD, {
    env: {
      ...process.env,
      // The same thread pool the app gets: bcrypt's compares run there.
      UV_THREADPOOL_SIZE: String(threadpoolSize),
      BENCH_BCRYPT_ROUNDS: String(rounds),
      BENCH_BCRYPT_SECONDS: String(seconds),
      BENCH_BCRYPT_CONCURRENCY: String(concurrency),
    },
    // One hash, one warm-up compare and the measured loop, with room for a slow box.
    timeoutMs: (seconds + 60) * 1000,
  });
}
