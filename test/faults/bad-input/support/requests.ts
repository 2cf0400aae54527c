import fc from 'fast-check';
import { TestUser } from '../../../support/test-app';
import { Method, Operation } from './operations';

/*
 * What the arbitraries produce (a plan of a request, naming fixtures rather than their values),
 * how a plan becomes the bytes sent, and how plans and exchanges are printed.
 */

export const REQUEST_TIMEOUT_MS = 15_000;

/** The columns of `users` a generated request may change, as text, as the fixtures made them. */
export interface AccountRow {
  email: string;
  username: string | null;
  email_verified_at: string | null;
  password_hash: string;
}

export interface Account extends TestUser {
  row: AccountRow;
}

export interface FixtureState {
  alice: Account;
  bob: Account;
  posts: { alicePublished: number; aliceDraft: number; bobPublished: number; bobDraft: number };
  /** A session of alice whose first refresh token was already traded in. */
  spent: { sessionId: number; refreshToken: string };
  deletedUser: { id: number; token: string };
  loggedOutToken: string;
}

/**
 * A value from the fixtures (an id, a token, an e-mail), resolved when the request is sent:
 * generated requests stay valid when a generated DELETE /users/me or logout replaced one.
 */
export class Fixture {
  constructor(
    readonly label: string,
    readonly resolve: (state: FixtureState) => string | number,
  ) {}

  [fc.toStringMethod](): string {
    return `<${this.label}>`;
  }
}

/** JSON text spliced into a body as it is: numbers JSON.stringify cannot write, deep nesting. */
export class RawJson {
  constructor(readonly text: string) {}

  [fc.toStringMethod](): string {
    return `raw(${preview(this.text, 60)})`;
  }
}

/** Replaces every Fixture in a generated value by its current value. */
export function resolveDeep(value: unknown, state: FixtureState): unknown {
  if (value instanceof Fixture) {
    return value.resolve(state);
  }
  if (Array.isArray(value)) {
    return value.map((item) => resolveDeep(item, state));
  }
  if (value !== null && typeof value === 'object' && !(value instanceof RawJson)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveDeep(item, state)]));
  }
  return value;
}

/** JSON text of a generated value; unlike JSON.stringify it keeps RawJson and own `__proto__` keys. */
export function toJsonText(value: unknown, state: FixtureState): string {
  if (value instanceof Fixture) {
    return JSON.stringify(value.resolve(state));
  }
  if (value instanceof RawJson) {
    return value.text;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => toJsonText(item, state)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item, state)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export type BodyPlan =
  | { kind: 'json'; contentType: string; value: unknown }
  | { kind: 'form'; contentType: string; pairs: [string, string | Fixture][] }
  | { kind: 'raw'; contentType?: string; data: string | Buffer };

export interface RequestPlan {
  /** The documented route this request aims at (none for unknown paths). */
  operation?: Operation;
  method: Method;
  /** Sent as written: literal text is already percent-encoded. */
  path: (string | Fixture)[];
  query?: string;
  authorization?: string | Fixture;
  headers: Record<string, string>;
  body?: BodyPlan;
  /** Sent on a raw socket with this broken framing (see FRAMINGS in framing.ts). */
  framing?: string;
}

/** The request as it goes on the wire. */
export interface SentRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  framing?: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function preview(text: string | Buffer, max = 300): string {
  const shown = Buffer.isBuffer(text) ? text.subarray(0, max).toString('utf8') : text.slice(0, max);
  const more = text.length > max ? ` … (${text.length} ${Buffer.isBuffer(text) ? 'bytes' : 'characters'})` : '';
  return `${JSON.stringify(shown)}${more}`;
}

/** How fast-check prints a generated request: short, with fixtures by name. */
export function describePlan(plan: RequestPlan): string {
  const path = plan.path.map((part) => (part instanceof Fixture ? `<${part.label}>` : part)).join('');
  const parts = [`${plan.method} ${preview(path, 120)}`];
  if (plan.query !== undefined) {
    parts.push(`query ${preview(plan.query, 120)}`);
  }
  if (plan.authorization !== undefined) {
    parts.push(
      `Authorization ${plan.authorization instanceof Fixture ? `<${plan.authorization.label}>` : preview(plan.authorization, 80)}`,
    );
  }
  for (const [name, value] of Object.entries(plan.headers)) {
    parts.push(`${name}: ${preview(value, 80)}`);
  }
  const body = plan.body;
  if (body?.kind === 'json') {
    parts.push(`${body.contentType} ${preview(fc.stringify(body.value), 200)}`);
  } else if (body?.kind === 'form') {
    parts.push(`${body.contentType} ${preview(fc.stringify(body.pairs), 200)}`);
  } else if (body?.kind === 'raw') {
    parts.push(`${body.contentType ?? '(no Content-Type)'} ${preview(body.data, 200)}`);
  }
  if (plan.framing !== undefined) {
    parts.push(`framing: ${plan.framing}`);
  }
  return `{ ${parts.join(' | ')} }`;
}

export function describable(plan: RequestPlan): RequestPlan {
  return Object.assign(plan, { [fc.toStringMethod]: () => describePlan(plan) });
}

export function describeExchange(request: SentRequest, answer: Answer | undefined): string {
  const headers = Object.entries(request.headers).map(([name, value]) => `    ${name}: ${preview(value, 160)}`);
  const lines = [
    'Request:',
    `  ${request.method} ${preview(request.url, 400)}`,
    ...headers,
    `  body: ${request.body === undefined ? '(none)' : preview(request.body, 400)}`,
    ...(request.framing === undefined ? [] : [`  sent on a raw socket with ${request.framing}`]),
  ];
  if (answer) {
    const answerHeaders = ['content-type', 'www-authenticate', 'retry-after', 'location']
      .filter((name) => answer.headers[name] !== undefined)
      .map((name) => `    ${name}: ${String(answer.headers[name])}`);
    lines.push('Answer:', `  ${answer.status}`, ...answerHeaders, `  body: ${preview(answer.text, 600)}`);
  }
  return lines.join('\n');
}

/** Every byte of the UTF-8 text percent-encoded but the unreserved ones (a lone surrogate becomes U+FFFD). */
export function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const character = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** The route's path with `segment` for its parameter (`/posts/{id}`), and a trailing slash if asked. */
export function pathOf(operation: Operation, segment: string | Fixture, trailingSlash = false): (string | Fixture)[] {
  const parts = operation.template
    .split(/(\{[^}]+\})/)
    .filter((piece) => piece !== '')
    .map((piece) => (piece.startsWith('{') ? segment : piece));
  return trailingSlash ? [...parts, '/'] : parts;
}

/** The request a plan stands for, with the fixtures' current values. */
export function resolvePlan(plan: RequestPlan, state: FixtureState): SentRequest {
  const path = plan.path.map((part) => (part instanceof Fixture ? String(part.resolve(state)) : part)).join('');
  const headers: Record<string, string> = { ...plan.headers };
  if (plan.authorization !== undefined) {
    headers.Authorization =
      plan.authorization instanceof Fixture ? String(plan.authorization.resolve(state)) : plan.authorization;
  }
  let body: Buffer | undefined;
  const planned = plan.body;
  if (planned?.kind === 'json') {
    body = Buffer.from(toJsonText(planned.value, state), 'utf8');
  } else if (planned?.kind === 'form') {
    const pairs = planned.pairs.map(([key, value]) => {
      const text = value instanceof Fixture ? String(value.resolve(state)) : value;
      return `${percentEncode(key)}=${percentEncode(text)}`;
    });
    body = Buffer.from(pairs.join('&'), 'utf8');
  } else if (planned?.kind === 'raw') {
    body = Buffer.isBuffer(planned.data) ? planned.data : Buffer.from(planned.data, 'utf8');
  }
  if (planned?.contentType !== undefined) {
    headers['Content-Type'] = planned.contentType;
  }
  const url = plan.query === undefined ? path : `${path}?${plan.query}`;
  return { method: plan.method, url, headers, body, framing: plan.framing };
}
