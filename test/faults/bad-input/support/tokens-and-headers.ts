import fc from 'fast-check';
import { base64url, F, FORGED_BEARERS, HS256, nowInSeconds, signToken } from './fixtures';
import { words } from './operations';
import { Fixture, resolveDeep } from './requests';
import { INJECTION_SPECIMENS, smallJson } from './text';

/*
 * Arbitraries of callers (Authorization headers: real, forged, signed with any claims,
 * garbage) and of other request headers.
 */

/** Mostly alice with her real token, so the validation behind the guard is reached. */
export const caller: fc.Arbitrary<Fixture | string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(F.aliceBearer) },
  { weight: 2, arbitrary: fc.constant(F.bobBearer) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(...FORGED_BEARERS) },
);

/** Header values Node's HTTP client lets through: tab, printable ASCII and Latin-1. */
export const headerText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({
    unit: fc
      .oneof(fc.constant(0x09), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((code) => String.fromCharCode(code)),
    maxLength: 60,
  }),
  fc.constantFrom(...INJECTION_SPECIMENS, '', ' ', '-1', '9'.repeat(100), 'a'.repeat(1000)),
);

export const claimValue = fc.oneof(
  fc.constantFrom(F.aliceId, F.aliceSession, F.bobId, F.bobSession, F.deletedUserId),
  fc.constantFrom(...['abc', '-1', '0', '1.5', '1e3', '01', ' 1', '99999999999', '2147483648', '1 OR 1=1', '']),
  smallJson,
);
export const timeClaim = fc.oneof(
  fc.constant(new Fixture('in 30 minutes', () => nowInSeconds() + 1800)),
  fc.constant(new Fixture('an hour ago', () => nowInSeconds() - 3600)),
  smallJson,
);

/** Tokens signed with the real secret but claims of any shape: what a leaked secret or a bug could produce. */
export const signedClaims = fc
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

export const garbageAuthorization = fc.oneof(
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

export const authorization: fc.Arbitrary<Fixture | string | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(F.aliceBearer, F.bobBearer) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(...FORGED_BEARERS) },
  { weight: 3, arbitrary: signedClaims },
  { weight: 3, arbitrary: garbageAuthorization },
);

export const HEADER_NAMES = words(`
  X-Request-Id Accept Accept-Language Accept-Encoding User-Agent X-Forwarded-For X-Forwarded-Proto X-Real-IP
  Forwarded Cookie Origin Referer If-None-Match If-Modified-Since Range Cache-Control Content-Encoding
  X-HTTP-Method-Override Prefer
`);

/** At most four, each at most 1,000 characters: with an 8 KB token they stay under 16 KiB. */
export const extraHeaders = fc.dictionary(
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
