import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { Post } from '../posts/post.entity';
import { User } from '../users/user.entity';
import { Vote } from '../votes/vote.entity';
import { Session } from '../sessions/session.entity';

export const ENTITIES = [User, Post, Vote, Session];

/** The one description of the database, shared by the app and the TypeORM CLI (`ormconfig.ts`). */
export function buildDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    // .ts under Jest and the CLI on sources, .js in the build.
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    synchronize: false,
    // Never 'error' or 'query': TypeORM would log the query parameters, password hashes included.
    logging: ['migration'],
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      application_name: 'posts-api',
    },
  };
}
