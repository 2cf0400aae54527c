import { TcpProxy } from './support/tcp-proxy';
import { createTestApps, expectProblem, registerUser, TEST_PASSWORD, TestApp } from './support/test-app';

describe('When the database goes away', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let token: string;
  const http = () => t.http();

  beforeAll(async () => {
    [t] = await createTestApps(
      1,
      {},
      {
        // The app reaches its database through a proxy the tests cut and restore.
        connectThrough: async (databaseUrl) => {
          const url = new URL(databaseUrl);
          proxy = new TcpProxy(url.hostname, Number(url.port));
          await proxy.start();
          url.port = String(proxy.port);
          return url.toString();
        },
      },
    );

    ({ token } = await registerUser({ http }, 'outage@example.com'));
  });

  afterAll(async () => {
    await proxy.start().catch(() => undefined);
    await t.close();
    await proxy.stop();
  });

  it('answers 503 problem+json with Retry-After, and /health says the database is down', async () => {
    await proxy.stop();

    const posts = await http().get('/posts').set('Authorization', `Bearer ${token}`);
    expectProblem(posts, 503);
    expect(posts.headers['retry-after']).toBeDefined();

    const register = await http().post('/users').send({ email: 'during@example.com', password: TEST_PASSWORD });
    expectProblem(register, 503);

    const health = await http().get('/health');
    expectProblem(health, 503);
    expect(health.body.database).toBe('down');
  });

  it('serves again from the same process when the database is back, with nothing half-written', async () => {
    await proxy.start();

    const health = await http().get('/health').expect(200);
    expect(health.body).toEqual({ status: 'ok', database: 'up' });
    await http().get('/posts').set('Authorization', `Bearer ${token}`).expect(200);

    // The registration refused during the outage left no row behind.
    const users = await t.db.query('SELECT email FROM users ORDER BY id');
    expect(users.rows).toEqual([{ email: 'outage@example.com' }]);
  });
});
