import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from '../support/raw-http';
import { createTestApp, registerUser } from '../support/test-app';

/** The app's DATABASE_POOL_SIZE (its default). */
const POOL_SIZE = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * Ten clients asking for expensive pages at once (at the deepest `skip`, with a search too
 * rare to fill it, so each holds a connection while PostgreSQL reads all 200,000 posts)
 * must not make a cheap request wait for a whole expensive one. It runs here, alone
 * (`--runInBand`), rather than among the e2e files that share the two cores: it compares
 * medians measured in the same run, never against a fixed time.
 */
describe('Expensive list requests beside cheap ones', () => {
  it('keeps a cheap request from waiting for whole expensive ones (fair share)', async () => {
    const big = await createTestApp({ DATABASE_POOL_SIZE: String(POOL_SIZE) });
    await big.app.listen(0, '127.0.0.1');
    const port = (big.app.getHttpServer().address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    try {
      const user = await registerUser(big);
      await big.db.query(
        `INSERT INTO posts (title, content, published, owner_id, created_at)
         SELECT 'Seeded post ' || n, 'The body of seeded post ' || n, true, $1, now() - n * interval '1 second'
         FROM generate_series(1, 200000) AS n`,
        [user.id],
      );
      await big.db.query('ANALYZE posts');
      const { rows } = await big.db.query<{ id: number }>('SELECT max(id) AS id FROM posts WHERE owner_id = $1', [
        user.id,
      ]);
      const cheapPath = `/posts/${rows[0].id}`;
      // About 4% of the titles hold "77": fewer than 10,000, so every request scans all 200,000 posts.
      const expensivePath = '/posts?limit=1&skip=10000&search=77';
      const probe = await call(port, agent, { path: expensivePath, accessToken: user.token });
      expect(probe.status).toBe(200);
      expect(JSON.parse(probe.body)).toEqual([]);
      expect((await call(port, agent, { path: cheapPath, accessToken: user.token })).status).toBe(200);

      const cheapAlone: number[] = [];
      for (let index = 0; index < 20; index += 1) {
        cheapAlone.push((await call(port, agent, { path: cheapPath, accessToken: user.token })).ms);
      }

      const end = Date.now() + 3_000;
      const expensive: number[] = [];
      const cheapUnderLoad: number[] = [];
      const statuses = new Set<number>();
      const expensiveLoop = async () => {
        while (Date.now() < end) {
          const answer = await call(port, agent, { path: expensivePath, accessToken: user.token });
          statuses.add(answer.status);
          expensive.push(answer.ms);
        }
      };
      const cheapLoop = async () => {
        await sleep(200); // once the expensive loops are under way
        while (Date.now() < end) {
          const answer = await call(port, agent, { path: cheapPath, accessToken: user.token });
          statuses.add(answer.status);
          cheapUnderLoad.push(answer.ms);
        }
      };
      await Promise.all([...Array.from({ length: 10 }, expensiveLoop), cheapLoop()]);

      const medians = {
        cheapAloneMs: median(cheapAlone),
        cheapUnderLoadMs: median(cheapUnderLoad),
        expensiveUnderLoadMs: median(expensive),
        cheapRequestsUnderLoad: cheapUnderLoad.length,
        expensiveRequests: expensive.length,
      };
      console.log('fair share:', JSON.stringify(medians));
      expect([...statuses]).toEqual([200]);
      // Eleven clients on a pool of POOL_SIZE connections: a cheap request's share of waiting is at most
      // one connection's turn, a tenth of an expensive request, not the wait for a whole one.
      expect(medians.cheapUnderLoadMs).toBeLessThan(medians.expensiveUnderLoadMs / POOL_SIZE);
    } finally {
      agent.destroy();
      await big.close();
    }
  }, 120_000);
});
