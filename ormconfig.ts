import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnvFile, validateEnvironment } from './src/config/environment';
import { buildDataSourceOptions, ENTITY_FILES } from './src/database/data-source-options';
import { EmbeddedPostgres } from './src/database/embedded-postgres';

/**
 * The DataSource of the TypeORM CLI (`npm run migration:*`), built from the same
 * options as the app's. With no DATABASE_URL it starts the embedded PostgreSQL under
 * DATA_DIR, as the app does, and stops it when the CLI exits.
 */
async function createDataSource(): Promise<DataSource> {
  loadEnvFile();
  const env = validateEnvironment(process.env);
  let url = env.DATABASE_URL;
  if (!url) {
    const embedded = new EmbeddedPostgres({ dataDir: env.DATA_DIR });
    url = await embedded.start();
  }
  // Migrations may build indexes on big tables: no statement timeout for the CLI.
  return new DataSource(
    buildDataSourceOptions(
      url,
      { poolSize: 2, statementTimeoutMs: 0, connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS },
      [ENTITY_FILES],
    ),
  );
}

export default createDataSource();
