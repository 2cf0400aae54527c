import { bodyOf, rawBody } from './support/bodies';
import { PROPERTY_TIMEOUT_MS, useBadInputHarness } from './support/harness';

/*
 * Generated bodies on every route: JSON and forms with wrong, missing and extra fields, and
 * raw bytes that are malformed, mislabelled or oversized. The contract checked on every answer
 * (no 5xx, problem+json for every error, no table changed by a refusal) is in support/harness.ts.
 */
describe('Bad input on every route (generated): bodies', () => {
  const { anyOperation, requestsTo, check } = useBadInputHarness();

  // Wrong types, missing and extra fields, nulls, nesting, huge and hostile strings, on every route.
  it(
    'answers generated JSON and form bodies without a 5xx, with problem details, and changes nothing it refuses',
    async () => {
      const plans = anyOperation().chain((operation) => requestsTo(operation, { body: bodyOf(operation) }));
      await check(plans, 1500);
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Malformed JSON, bytes that are not UTF-8, mislabelled and missing Content-Types, bodies over the limit.
  it(
    'answers malformed, mislabelled and oversized raw bodies with 4xx problem details',
    async () => {
      const plans = anyOperation().chain((operation) => requestsTo(operation, { body: rawBody(operation) }));
      await check(plans, 800);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
