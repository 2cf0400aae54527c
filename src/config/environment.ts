import { existsSync } from 'node:fs';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { withoutUrlPasswords } from './url-passwords';

const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** The variables without a default, which `new EnvironmentVariables()` does not list. */
export const OPTIONAL_VARIABLES = ['DATABASE_URL', 'JWT_SECRET', 'REDIS_URL', 'LOG_FORMAT', 'SMTP_URL', 'PUBLIC_URL'];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable the service reads, with its default. This class and
 * the factories next to it are the only code that looks at `process.env`.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8000;

  @IsString()
  HOST = '0.0.0.0';

  @IsString()
  @MinLength(1)
  DATA_DIR = './.data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// connection URL',
  })
  DATABASE_URL?: string;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /** Longest a statement may run before PostgreSQL cancels it (the request then answers 503). */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5_000;

  /** Longest wait for a database connection, new or from the pool, before answering 503. */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_CONNECT_TIMEOUT_MS = 3_000;

  /** Standbys of DATABASE_URL (comma-separated) for the reads that may be a moment stale; empty: none. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @Matches(/^(|postgres(ql)?:\/\/[^\s,]+(\s*,\s*postgres(ql)?:\/\/[^\s,]+)*)$/, {
    message: 'DATABASE_REPLICA_URLS must be empty or a comma-separated list of postgres:// connection URLs',
  })
  DATABASE_REPLICA_URLS = '';

  /** A replica further behind the primary than this is skipped until it catches up. */
  @Transform(toInteger)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  REPLICA_MAX_LAG_MS = 1_000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1440)
  ACCESS_TOKEN_EXPIRE_MINUTES = 30;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(365)
  REFRESH_TOKEN_EXPIRE_DAYS = 30;

  /** A refresh token presented again within this many seconds of its use answers 409 instead of ending the session. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(300)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  @Transform(toInteger)
  @IsInt()
  @Min(4)
  @Max(15)
  BCRYPT_ROUNDS = 12;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  LOGIN_MAX_FAILURES = 5;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100_000)
  LOGIN_MAX_ATTEMPTS_PER_CLIENT = 100;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(86_400)
  LOGIN_WINDOW_SECONDS = 900;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Whose address counts as the client's: see `trustProxySetting`. */
  @Matches(/^(|true|false|[0-9]{1,2}|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be empty, true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs',
  })
  TRUST_PROXY = '';

  /** Requests per client address and window on every route but the health checks; 429 beyond. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  RATE_LIMIT_MAX = 600;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_WINDOW_SECONDS = 60;

  /** Origins allowed to call the API from a browser: empty (none), `*`, or a comma-separated list. */
  @Matches(/^(|\*|https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*)$/, {
    message: 'CORS_ORIGINS must be empty, * or a comma-separated list of origins such as https://app.example.com',
  })
  CORS_ORIGINS = '';

  /** Longest time a client may take to send a whole request (headers and body). */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(3_600)
  REQUEST_TIMEOUT_SECONDS = 30;

  /** On SIGTERM/SIGINT: how long to go on serving while not ready, before closing the listener. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(300)
  SHUTDOWN_DELAY_SECONDS = 0;

  /** On SIGTERM/SIGINT: how long requests in flight may take to finish before they are cut. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600)
  SHUTDOWN_GRACE_SECONDS = 10;

  /** The base of the links in mails; empty: http://localhost:{PORT}. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_URL must be an http:// or https:// URL without a query, such as https://posts.example.com',
  })
  PUBLIC_URL?: string;

  /** Where mails go out; empty outside production: each mail is written to the log instead. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** The sender of every mail: an address, or a name and an address. */
  @IsString()
  @Matches(/^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, {
    message: 'MAIL_FROM must be an address such as no-reply@example.com or "Posts API <no-reply@example.com>"',
  })
  MAIL_FROM = 'Posts API <no-reply@localhost>';

  /** How often each instance looks for mails to send (and password-reset requests to answer). */
  @Transform(toInteger)
  @IsInt()
  @Min(50)
  @Max(600_000)
  MAIL_POLL_INTERVAL_MS = 1_000;

  /** A mail an instance took and did not finish (it died while sending) is taken by another after this long. */
  @Transform(toInteger)
  @IsInt()
  @Min(2)
  @Max(3_600)
  MAIL_SEND_LEASE_SECONDS = 60;

  /** E-mail addresses (comma-separated) whose accounts are admins: from registration, or from the next start. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @Matches(/^(|[^\s,@]+@[^\s,@]+(\s*,\s*[^\s,@]+@[^\s,@]+)*)$/, {
    message: 'ADMIN_EMAILS must be empty or a comma-separated list of e-mail addresses',
  })
  ADMIN_EMAILS = '';

  /** How many days the security activity of an account is kept. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(3650)
  ACTIVITY_RETENTION_DAYS = 90;

  /** true: writing posts, votes or comments needs a verified e-mail address (403 otherwise). */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(['true', 'false'])
  REQUIRE_VERIFIED_EMAIL: 'true' | 'false' = 'false';

  /**
   * true: live sessions are cached in each instance, kept true by LISTEN/NOTIFY (the
   * database must pass notifications through: not behind a transaction-mode pooler).
   */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(['true', 'false'])
  SESSION_CACHE: 'true' | 'false' = 'true';

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(720)
  EMAIL_VERIFICATION_EXPIRE_HOURS = 48;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1440)
  PASSWORD_RESET_EXPIRE_MINUTES = 30;

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'info';

  /** `json` (one object per line) or `pretty` (for a terminal); by default pretty only in development. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';
}

/**
 * Validates and types the environment. Throws one error that names every bad
 * variable, so a misconfigured start stops at once with the reason.
 */
export function validateEnvironment(env: Record<string, unknown>): EnvironmentVariables {
  const known = Object.fromEntries(
    Object.keys(new EnvironmentVariables())
      .concat(OPTIONAL_VARIABLES)
      .filter((name) => env[name] !== undefined)
      .map((name) => [name, env[name]]),
  );
  const variables = plainToInstance(EnvironmentVariables, known, { exposeDefaultValues: true });
  const problems = validateSync(variables).map((error) => {
    const constraints = error.constraints ?? {};
    // One line per variable: a value of the wrong kind says so rather than "must not be less than 0".
    const message = constraints.isInt ?? constraints.isIn ?? Object.values(constraints)[0];
    return `${message} (got ${JSON.stringify(withoutPassword(env[error.property]))})`;
  });
  if (variables.NODE_ENV === 'production') {
    const secret = variables.JWT_SECRET;
    if (!secret || Buffer.byteLength(secret, 'utf8') < 32) {
      problems.push(
        'JWT_SECRET must be set to a random string of at least 32 bytes when NODE_ENV=production ' +
          '(generate one with: openssl rand -base64 48)',
      );
    }
    if (!variables.SMTP_URL) {
      problems.push(
        'SMTP_URL must be set when NODE_ENV=production (e.g. smtp://user:pass@mail.example.com:587): ' +
          'without it no verification or password-reset mail could reach anyone',
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return variables;
}

/** A URL's password is not repeated in an error message (`smtp://user:***@host`). */
function withoutPassword(value: unknown): unknown {
  return typeof value === 'string' ? withoutUrlPasswords(value) : value;
}

/** Loads `.env` from the working directory into `process.env` when the file exists. */
export function loadEnvFile(path = '.env'): void {
  if (existsSync(path)) {
    process.loadEnvFile(path);
  }
}

/**
 * TRUST_PROXY as Fastify's `trustProxy`: empty or `false` trusts nobody (the socket's
 * address is the client), `true` trusts every `X-Forwarded-For` hop, a number trusts
 * that many hops, a list trusts those proxy addresses or CIDR ranges.
 */
export function trustProxySetting(value: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  const setting = value.trim();
  if (setting === '' || setting === 'false') {
    return false;
  }
  if (setting === 'true') {
    return true;
  }
  if (/^[0-9]+$/.test(setting)) {
    const hops = Number(setting);
    return (_address, hop) => hop < hops;
  }
  return setting.split(',').map((address) => address.trim());
}
