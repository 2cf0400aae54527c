import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { loadConfiguration } from './config/configuration';
import { setUpDocs } from './docs/docs.setup';
import { Entrance } from './entrance/entrance';
import { createRootLogger } from './logging/root-logger';

export interface CreateAppOptions {
  /** Where the JSON log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

/** Builds the whole app as `main.ts` serves it; end-to-end tests use the same function. */
export async function createApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const configuration = loadConfiguration();
  const logger = createRootLogger(configuration.app.log, options.logDestination);
  const entrance = new Entrance(configuration.app, logger);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ configuration, logger }),
    entrance.adapter(),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  entrance.install(app);
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
  setUpDocs(app);
  return app;
}
