import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigType, registerAs } from '@nestjs/config';
import { validateEnvironment } from './environment';

const environment = () => validateEnvironment(process.env);

export const appConfig = registerAs('app', () => {
  const env = environment();
  return {
    nodeEnv: env.NODE_ENV,
    /** The version in package.json, shown by `GET /`. */
    version: packageVersion(),
    port: env.PORT,
    host: env.HOST,
    dataDir: resolve(env.DATA_DIR),
    logLevel: env.LOG_LEVEL,
    shutdown: { delayMs: env.SHUTDOWN_DELAY_SECONDS * 1000, graceMs: env.SHUTDOWN_GRACE_SECONDS * 1000 },
    /** Empty: no cross-origin browser calls. */
    corsOrigins: env.CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    rateLimit: { max: env.RATE_LIMIT_MAX, windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS },
    /** Undefined: rate-limit counters live in this process's memory. */
    redisUrl: env.REDIS_URL,
  };
});

export const databaseConfig = registerAs('database', () => {
  const env = environment();
  return {
    /** Undefined: the app starts its own embedded PostgreSQL under `dataDir`. */
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    dataDir: resolve(env.DATA_DIR),
  };
});

export const authConfig = registerAs('auth', () => {
  const env = environment();
  return {
    jwtSecret: env.JWT_SECRET ?? readOrCreateSecret(resolve(env.DATA_DIR)),
    accessTokenExpiresInSeconds: env.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
    refreshTokenExpiresInSeconds: env.REFRESH_TOKEN_EXPIRE_DAYS * 86_400,
    refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
    bcryptRounds: env.BCRYPT_ROUNDS,
    login: {
      maxFailures: env.LOGIN_MAX_FAILURES,
      maxAttemptsPerClient: env.LOGIN_MAX_ATTEMPTS_PER_CLIENT,
      windowSeconds: env.LOGIN_WINDOW_SECONDS,
    },
    /** Undefined: login counters live in this process's memory. */
    redisUrl: env.REDIS_URL,
  };
});

export type AppConfig = ConfigType<typeof appConfig>;
export type DatabaseConfig = ConfigType<typeof databaseConfig>;
export type AuthConfig = ConfigType<typeof authConfig>;

/** The project's package.json is above this file, in the sources and in the build alike. */
function packageVersion(): string {
  for (let folder = __dirname; folder !== dirname(folder); folder = dirname(folder)) {
    const file = join(folder, 'package.json');
    if (existsSync(file)) {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    }
  }
  return 'unknown';
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept in the data
 * folder (mode 0600), so tokens stay valid across restarts.
 */
function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) {
      return stored;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
