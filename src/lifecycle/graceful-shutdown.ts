import type { Server } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Lifecycle } from './lifecycle.service';

/** After the delay and the grace period, this long is left for the pool, Redis and PostgreSQL to close. */
const CLOSE_DEADLINE_MS = 15_000;

export interface ShutdownTimes {
  /** How long to go on serving, already "not ready", so that load balancers stop sending. */
  delayMs: number;
  /** How long requests in flight may take once the listener is closed. */
  graceMs: number;
}

/**
 * Stops the app the way a rolling restart needs it stopped: the readiness check turns
 * 503 (for `delayMs` the instance goes on serving, for load balancers that poll it), then
 * the listener closes (new connections are refused) and requests still arriving on open
 * connections are refused with 503, requests in flight finish with their normal answers
 * (their connections are cut after `graceMs`), and Nest closes the rest: Redis clients,
 * the database pool and, when this process started it, the embedded PostgreSQL.
 * Resolves to the exit code: 0 when everything closed.
 */
export async function shutDown(
  app: NestFastifyApplication,
  { delayMs, graceMs }: ShutdownTimes,
  reason: string,
): Promise<number> {
  const logger = new Logger('Shutdown');
  const startedAt = Date.now();
  const lifecycle = app.get(Lifecycle);
  lifecycle.beginShutdown();
  if (delayMs > 0) {
    logger.log(`${reason}: not ready; serving ${delayMs} ms more before closing`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  lifecycle.beginRefusing();
  logger.log(`${reason}: refusing new requests, waiting up to ${graceMs} ms for those in flight`);

  const server: Server = app.getHttpServer();
  const cut = setTimeout(() => {
    logger.warn(`Requests still running after ${graceMs} ms: closing their connections`);
    server.closeAllConnections();
  }, graceMs);
  try {
    // Stops listening, closes idle keep-alive connections, waits for the requests in flight.
    await app
      .getHttpAdapter()
      .getInstance()
      .close()
      .finally(() => clearTimeout(cut));
    logger.log(`Requests drained in ${Date.now() - startedAt} ms`);
    await app.close();
    logger.log(`Stopped in ${Date.now() - startedAt} ms`);
    return 0;
  } catch (error) {
    logger.error(`Shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

/**
 * SIGTERM and SIGINT start `shutDown` and exit with its code; a second signal, or a
 * shutdown that overruns its deadline, exits at once with 1.
 */
export function exitGracefullyOnSignals(app: NestFastifyApplication, times: ShutdownTimes): void {
  const deadlineMs = times.delayMs + times.graceMs + CLOSE_DEADLINE_MS;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      new Logger('Shutdown').warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    setTimeout(() => {
      new Logger('Shutdown').error(`Not stopped ${deadlineMs} ms after ${signal}: exiting`);
      process.exit(1);
    }, deadlineMs).unref();
    void shutDown(app, times, signal).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
