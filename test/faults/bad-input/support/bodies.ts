import fc from 'fast-check';
import { BODY_LIMIT_BYTES } from '../../../../src/entrance/entrance';
import { MAX_ID } from '../../../../src/common/validation.pipe';
import { TEST_PASSWORD } from '../../../support/test-app';
import { F, POST_IDS } from './fixtures';
import { FORM, JSON_TYPE, Operation, PropertySchema } from './operations';
import { BodyPlan, Fixture } from './requests';
import {
  deepNesting,
  EXTRA_FIELDS,
  hostileJson,
  hostileText,
  INJECTION_SPECIMENS,
  jsonKey,
  UNICODE_SPECIMENS,
} from './text';

/*
 * Arbitraries of request bodies: plausible ones that reach the rules behind validation, JSON
 * and forms with wrong, missing and extra fields, and raw bytes (malformed, mislabelled, oversized).
 */

/** A value the route could accept for this field: reaches the rules behind the validation. */
export function plausibleValue(name: string, schema: PropertySchema): fc.Arbitrary<unknown> {
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

export function plausibleBody(operation: Operation, allFields: boolean): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(operation.bodyFields).map(([name, schema]) => [name, plausibleValue(name, schema)]),
  );
  return fc.record(fields, allFields ? {} : { requiredKeys: [] });
}

/** Mostly JSON, sometimes declared as something else: the body must still be refused cleanly. */
export const jsonContentType = fc.oneof(
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
export function jsonBody(operation: Operation): fc.Arbitrary<BodyPlan> {
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

export const formKey = (operation: Operation) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.keys(operation.bodyFields), 'username') },
    { weight: 1, arbitrary: fc.constantFrom(...EXTRA_FIELDS, 'username[]', 'password[0]', 'a[b][c]') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );

/** The OAuth2 form: repeated keys, empty values, hostile text, real e-mails and tokens. */
export function formBody(operation: Operation): fc.Arbitrary<BodyPlan> {
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

export function bodyOf(operation: Operation): fc.Arbitrary<BodyPlan | undefined> {
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
export function plausibleBodyOf(operation: Operation): fc.Arbitrary<BodyPlan | undefined> {
  if (operation.bodyTypes.length === 0) {
    return fc.constant(undefined);
  }
  return plausibleBody(operation, true).map((value) => ({ kind: 'json' as const, contentType: JSON_TYPE, value }));
}

export const MALFORMED_JSON = [
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

export const CONTENT_TYPES = [
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
export const sizedBody = fc
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
export const brokenBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((bytes) => Buffer.concat([Buffer.from('{"title":"'), Buffer.from(bytes), Buffer.from('","content":"y"}')])),
  fc.constant(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d])),
);

/** Raw bytes with any Content-Type (or none): malformed JSON, valid JSON mislabelled, forms, bytes, oversize. */
export function rawBody(operation: Operation): fc.Arbitrary<BodyPlan> {
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
