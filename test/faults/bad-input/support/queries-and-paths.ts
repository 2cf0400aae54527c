import fc from 'fast-check';
import { MAX_ID } from '../../../../src/common/validation.pipe';
import { ALL_IDS, base64url } from './fixtures';
import { Operation, words } from './operations';
import { Fixture, percentEncode } from './requests';
import { PROTOTYPE_KEYS, shortHostileText } from './text';

/*
 * Arbitraries of query strings, path id segments, and paths the API does not have.
 */

export const NUMBERISH = [
  ...words('-1 0 1 100 101 1.5 1e3 1e400 0x10 0b1 +5 10abc Infinity -Infinity NaN null true [] {} -0 00010 1_000'),
  ...words('2147483647 2147483648 9007199254740993'),
  ' 5',
  '5 ',
  '\u0663',
  '\uFF11',
  '9'.repeat(30),
];

/** Cursors: well-formed ones with extreme values, and anything else. */
export const cursorText = fc.oneof(
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

export function queryKey(operation: Operation) {
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

export const queryValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBERISH) },
  { weight: 3, arbitrary: shortHostileText },
  { weight: 2, arbitrary: cursorText },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Query text as it goes on the wire: encoded pairs, repeated keys, and fragments that are not pairs. */
export function queryOf(operation: Operation): fc.Arbitrary<string> {
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

export const PATH_SEGMENTS = [
  ...words('0 -1 -0 1.5 1e3 1E3 0x1F 0b1 +1 %201 1%20 01 2147483647 2147483648 4294967296 99999999999'),
  ...words("NaN Infinity null undefined true me ; 1;drop 1%3B%20DROP%20TABLE%20posts%3B%20-- 1'%20OR%20'1'%3D'1"),
  // Encoded slashes, dots, NUL, RTL override, full-width and Arabic-Indic digits, emoji, broken escapes.
  ...words('%2F 1%2F2 %2e%2e %2e%2e%2f%2e%2e %00 1%00 %E2%80%AE1 %EF%BC%91 %D9%A3 %F0%9F%91%8D % %ZZ %FF'),
  '9'.repeat(300),
  '1'.repeat(101),
  'a'.repeat(5000),
];

/** An id segment: a real id (own post, another user's, a draft, a deleted user) or garbage. */
export const pathSegment: fc.Arbitrary<string | Fixture> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ALL_IDS) },
  { weight: 5, arbitrary: fc.constantFrom(...PATH_SEGMENTS) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()).map((n) => percentEncode(String(n))) },
  { weight: 2, arbitrary: shortHostileText.map(percentEncode) },
);

export const UNKNOWN_PATHS = [
  ...words('/ /admin /api /api/posts /posts/1/comment /users/me/postz /POSTS /Posts //posts /posts//1 /posts/1//'),
  ...words('/./posts /%2e/posts /posts%2F1 /.env /.git/config /favicon.ico /auth /auth/sessions/1/2 /vote/1 /login/x'),
  ...words('/redoc/x /openapi.json/x /health/x /docs/nothing-here /docs/swagger-ui-bundle.js.map'),
  // Traversal out of the docs assets, NUL, bytes that are not UTF-8, a broken escape, very long paths.
  ...words('/docs/%2e%2e/%2e%2e/package.json /docs/..%2F..%2Fpackage.json /%00 /users/%00 /%FF /%'),
  `/${'a'.repeat(5000)}`,
  '/a'.repeat(1000),
];
