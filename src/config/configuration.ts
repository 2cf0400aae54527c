import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type EnvironmentVariables, trustProxySetting, validateEnvironment } from './environment';

/**
 * The service's configuration, built once per app from the validated environment
 * (`loadConfiguration`) and injected by namespace: `@Inject(APP_CONFIG) config: AppConfig`.
 * Nothing outside `config/` reads `process.env`.
 */
export const APP_CONFIG = 'configuration:app';
export const DATABASE_CONFIG = 'configuration:database';
export const AUTH_CONFIG = 'configuration:auth';
export const MAIL_CONFIG = 'configuration:mail';

export type AppConfig = ReturnType<typeof appSection>;
export type DatabaseConfig = ReturnType<typeof databaseSection>;
export type AuthConfig = ReturnType<typeof authSection>;
export type MailConfig = ReturnType<typeof mailSection>;

export interface Configuration {
  app: AppConfig;
  database: DatabaseConfig;
  auth: AuthConfig;
  mail: MailConfig;
}

/** Validates the environment once (a bad value stops the start, naming the variable) and builds every namespace. */
export function loadConfiguration(env: Record<string, unknown> = process.env): Configuration {
  const variables = validateEnvironment(env);
  return {
    app: appSection(variables),
    database: databaseSection(variables),
    auth: authSection(variables),
    mail: mailSection(variables),
  };
}

/**
 * The configuration `npm run openapi` builds the document with: fixed values, so the
 * document depends on neither the caller's environment nor `.env`. Nothing connects to
 * this URL, and the secret signs nothing.
 */
export function documentationConfiguration(): Configuration {
  return loadConfiguration({
    DATABASE_URL: 'postgres://openapi@127.0.0.1:9/openapi',
    JWT_SECRET: 'used-only-to-write-openapi-json',
    LOG_LEVEL: 'fatal',
  });
}

function appSection(env: EnvironmentVariables) {
  return {
    /** The version in package.json, shown by `GET /`. */
    version: packageVersion(),
    port: env.PORT,
    host: env.HOST,
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT ?? (env.NODE_ENV === 'development' ? 'pretty' : 'json') },
    http: {
      requestTimeoutMs: env.REQUEST_TIMEOUT_SECONDS * 1000,
      /** Fastify's `trustProxy`: whose X-Forwarded-For decides `request.ip`. */
      trustProxy: trustProxySetting(env.TRUST_PROXY),
      /** Empty: no cross-origin browser calls. */
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    },
    shutdown: { delayMs: env.SHUTDOWN_DELAY_SECONDS * 1000, graceMs: env.SHUTDOWN_GRACE_SECONDS * 1000 },
    rateLimit: { max: env.RATE_LIMIT_MAX, windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS },
    /** Undefined: rate-limit and login counters live in this process's memory. */
    redisUrl: env.REDIS_URL,
  };
}

function databaseSection(env: EnvironmentVariables) {
  return {
    /** Undefined: the app starts its own embedded PostgreSQL under `dataDir`. */
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    dataDir: resolve(env.DATA_DIR),
    /** Empty: every query goes to the primary, as without replicas. */
    replicaUrls: env.DATABASE_REPLICA_URLS.split(',')
      .map((url) => url.trim())
      .filter(Boolean),
    replicaMaxLagMs: env.REPLICA_MAX_LAG_MS,
  };
}

function authSection(env: EnvironmentVariables) {
  return {
    jwtSecret: env.JWT_SECRET ?? readOrCreateSecret(resolve(env.DATA_DIR)),
    accessTokenExpiresInSeconds: env.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
    refreshTokenExpiresInSeconds: env.REFRESH_TOKEN_EXPIRE_DAYS * 86_400,
    refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
    bcryptRounds: env.BCRYPT_ROUNDS,
    /** The base of the links in mails, without a trailing slash. */
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL === 'true',
    sessionCache: env.SESSION_CACHE === 'true',
    /** Lower-case: the accounts of these addresses are admins. */
    adminEmails: env.ADMIN_EMAILS.split(',')
      .map((email) => email.trim().toLowerCase())
      .filter(Boolean),
    activityRetentionDays: env.ACTIVITY_RETENTION_DAYS,
    emailVerificationTtlMs: env.EMAIL_VERIFICATION_EXPIRE_HOURS * 3_600_000,
    passwordResetTtlMs: env.PASSWORD_RESET_EXPIRE_MINUTES * 60_000,
    login: {
      maxFailures: env.LOGIN_MAX_FAILURES,
      maxAttemptsPerClient: env.LOGIN_MAX_ATTEMPTS_PER_CLIENT,
      windowSeconds: env.LOGIN_WINDOW_SECONDS,
    },
  };
}

function mailSection(env: EnvironmentVariables) {
  return {
    /** Undefined: each mail is written to the log (refused at start in production). */
    smtpUrl: env.SMTP_URL,
    from: env.MAIL_FROM,
    pollIntervalMs: env.MAIL_POLL_INTERVAL_MS,
    leaseMs: env.MAIL_SEND_LEASE_SECONDS * 1000,
  };
}

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
