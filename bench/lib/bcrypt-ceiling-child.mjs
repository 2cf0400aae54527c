// Runs in its own process (see bcrypt-ceiling.mjs) so that UV_THREADPOOL_SIZE, which
// libuv reads once at start, can match the app's. Keeps BENCH_BCRYPT_CONCURRENCY
// compares in flight for BENCH_BCRYPT_SECONDS and prints {comparesPerSec, ...} as JSON.
import bcrypt from 'bcrypt';
import { BENCH_PASSWORD } from './seed.mjs';

const rounds = Number(process.env.BENCH_BCRYPT_ROUNDS);
const seconds = Number(process.env.BENCH_BCRYPT_SECONDS);
const concurrency = Number(process.env.BENCH_BCRYPT_CONCURRENCY);
const password = BENCH_PASSWORD;

const hash = await bcrypt.hash(password, rounds);
// One compare first, so the thread pool is up before the clock starts.
await bcrypt.compare(password, hash);

let done = 0;
const startedAt = performance.now();
const deadline = startedAt + seconds * 1000;

/** One of `concurrency` loops, like one keep-alive connection sending logins back to back. */
async function loop() {
  while (performance.now() < deadline) {
    if (!(await bcrypt.compare(password, hash))) {
      throw new Error('bcrypt.compare returned false for the right password');
    }
    done++;
  }
}
await Promise.all(Array.from({ length: concurrency }, loop));
const elapsed = (performance.now() - startedAt) / 1000;
console.log(
  JSON.stringify({
    rounds,
    threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    concurrency,
    compares: done,
    seconds: Math.round(elapsed * 100) / 100,
    comparesPerSec: Math.round((done / elapsed) * 10) / 10,
  }),
);
