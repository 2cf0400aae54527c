import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { APP_CONFIG, type AppConfig } from './config/configuration';
import { loadEnvFile } from './config/environment';
import { exitGracefullyOnSignals } from './lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  loadEnvFile();
  const app = await createApp();
  const { port, host, shutdown } = app.get<AppConfig>(APP_CONFIG);
  await app.listen(port, host);
  // From here on (a signal during the start simply ends the process).
  exitGracefullyOnSignals(app, shutdown);
  Logger.log(`Posts API listening on ${await app.getUrl()} (docs at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors name the variable; print them without a stack trace.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
