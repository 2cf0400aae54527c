import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  const started = globalThis.__testPostgres;
  if (started) {
    await started.server.stop();
    await rm(started.dataDir, { recursive: true, force: true });
  }
}
