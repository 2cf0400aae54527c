import { Pool } from 'pg';
import { problemBreaches } from '../../../support/problem';
import { sha256 } from './fixtures';
import { Answer, RequestPlan, SentRequest } from './requests';

/*
 * The contract every answer is checked against (see harness.ts): no 5xx, problem details for
 * every answer that is not 2xx, and no table changed by a refused request.
 */

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function headerOf(answer: Answer, name: string): string {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * The pages a person opens from a mail (API.md, "Accounts"): their own outcomes, a link
 * that does not work (400) or a password to choose again (422), are HTML pages that say
 * so in words. Every other error of theirs (413, 415, 429, ...) is problem+json as anywhere.
 */
const PAGE_ROUTES = ['GET /auth/verify-email', 'GET /auth/password-reset', 'POST /auth/password-reset/page'];

function isPageOutcome(plan: RequestPlan, answer: Answer): boolean {
  const path = plan.path.filter((part): part is string => typeof part === 'string').join('');
  // HEAD is answered as GET is, without the body.
  const isHead = plan.method === 'HEAD';
  const route = `${isHead ? 'GET' : plan.method} ${path.replace(/\/+$/, '')}`;
  return (
    PAGE_ROUTES.includes(route) &&
    [400, 422].includes(answer.status) &&
    headerOf(answer, 'content-type').startsWith('text/html') &&
    (isHead || /<h1>[^<]+<\/h1>/.test(answer.text))
  );
}

/** Rules 1 and 2 (the problem+json rule of test/support/problem.ts), and the headers the contract adds to some errors. */
export function contractBreaches(plan: RequestPlan, answer: Answer): string[] {
  const breaches: string[] = [];
  if (answer.status >= 500) {
    breaches.push(`answered ${answer.status}: nothing a client sends may be a server error while the database is up`);
  }
  if (isSuccess(answer.status) || isPageOutcome(plan, answer)) {
    // Any 2xx may have any body: a 204 has none, the docs pages are HTML, JavaScript, JSON or YAML.
    return breaches;
  }
  // An answer to HEAD has no body, only the headers of one.
  const hasBody = plan.method !== 'HEAD';
  let body: unknown;
  try {
    body = hasBody ? JSON.parse(answer.text) : undefined;
  } catch {
    body = undefined;
  }
  const contentType = headerOf(answer, 'content-type');
  breaches.push(...problemBreaches({ status: answer.status, contentType, body }, answer.status, { hasBody }));
  if (answer.status === 401 && plan.operation?.secured && !/^Bearer\b/.test(headerOf(answer, 'www-authenticate'))) {
    breaches.push('a 401 of a protected route without "WWW-Authenticate: Bearer"');
  }
  if (answer.status === 429 && headerOf(answer, 'retry-after') === '') {
    breaches.push('a 429 without Retry-After');
  }
  return breaches;
}

export interface SessionRow {
  id: number;
  revoked_at: string | null;
  previous_refresh_token_hash: string | null;
  [column: string]: unknown;
}

export interface TablesSnapshot {
  /** md5 of every row of each table, in a stable order. */
  fingerprints: Record<string, string>;
  sessions: SessionRow[];
}

/**
 * Tables the background workers change at any moment, whatever the request in flight: the
 * outbox worker marks mails sent or schedules their next try, and the reset worker takes
 * its requests. What a request writes there is checked by the e2e tests of the accounts.
 */
const BACKGROUND_TABLES = ['mail_outbox', 'password_reset_requests'];

/** The service's tables (all but TypeORM's migrations and the background ones), for `snapshotQueryOf`. */
export async function tablesOf(db: Pool): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
       AND NOT table_name = ANY($1) ORDER BY 1`,
    [BACKGROUND_TABLES],
  );
  return rows.map((row) => row.name);
}

/** One query for a fingerprint of every table and the rows of sessions. */
export function snapshotQueryOf(tables: string[]): string {
  const fingerprints = tables.map(
    (table) =>
      `(SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM "${table}" r) AS "${table}"`,
  );
  return `SELECT ${fingerprints.join(', ')},
      (SELECT coalesce(json_agg(s ORDER BY s.id), '[]'::json) FROM sessions s) AS session_rows`;
}

export async function snapshot(db: Pool, snapshotQuery: string): Promise<TablesSnapshot> {
  const { rows } = await db.query<Record<string, unknown>>(snapshotQuery);
  const { session_rows: sessions, ...fingerprints } = rows[0];
  return { fingerprints: fingerprints as Record<string, string>, sessions: sessions as SessionRow[] };
}

export function changedTables(before: TablesSnapshot, after: TablesSnapshot): string[] {
  return Object.keys(before.fingerprints).filter((table) => before.fingerprints[table] !== after.fingerprints[table]);
}

/** The refresh token the request presented, as the service would read it from JSON or the form. */
export function presentedRefreshToken(request: SentRequest): string | undefined {
  const text = request.body?.toString('utf8') ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    const token = (parsed as { refresh_token?: unknown } | null)?.refresh_token;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return new URLSearchParams(text).get('refresh_token') ?? undefined;
  }
}

/**
 * The one refused request the contract lets change a table: a spent refresh token presented
 * again is taken as theft, answered 401, and its session is revoked. Allowed only when that
 * is all that changed: one session, revoked now, whose previous token is the one presented.
 */
/**
 * A refused login of an existing account is recorded in its security activity
 * (`login_failed`, `login_blocked`: API.md, "Security activity"): that one table may change.
 */
export function isRecordedLoginRefusal(
  request: SentRequest,
  answer: Answer,
  before: TablesSnapshot,
  after: TablesSnapshot,
): boolean {
  const route = request.url.split('?')[0].replace(/\/$/, '');
  const changed = changedTables(before, after);
  return (
    request.method === 'POST' &&
    route === '/login' &&
    [401, 403, 429].includes(answer.status) &&
    changed.length === 1 &&
    changed[0] === 'activity_events'
  );
}

export function isRefreshTokenReuseRevocation(
  request: SentRequest,
  answer: Answer,
  before: TablesSnapshot,
  after: TablesSnapshot,
): boolean {
  const route = request.url.split('?')[0].replace(/\/$/, '');
  const presented = presentedRefreshToken(request);
  if (request.method !== 'POST' || route !== '/auth/refresh' || answer.status !== 401 || presented === undefined) {
    return false;
  }
  if (
    // The revocation and its `refresh_reuse_detected` event in the account's activity.
    changedTables(before, after).some((table) => table !== 'sessions' && table !== 'activity_events') ||
    before.sessions.length !== after.sessions.length
  ) {
    return false;
  }
  const changed = after.sessions.filter((row, index) => JSON.stringify(row) !== JSON.stringify(before.sessions[index]));
  if (changed.length !== 1) {
    return false;
  }
  const revoked = changed[0];
  const previous = before.sessions.find((row) => row.id === revoked.id);
  return (
    previous !== undefined &&
    previous.revoked_at === null &&
    revoked.revoked_at !== null &&
    revoked.previous_refresh_token_hash === sha256(presented) &&
    JSON.stringify({ ...previous, revoked_at: null }) === JSON.stringify({ ...revoked, revoked_at: null })
  );
}
