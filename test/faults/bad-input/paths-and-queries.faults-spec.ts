import fc from 'fast-check';
import { F, POST_IDS } from './support/fixtures';
import { PROPERTY_TIMEOUT_MS, useBadInputHarness } from './support/harness';
import { ANY_METHOD } from './support/operations';
import { pathSegment, queryOf, UNKNOWN_PATHS } from './support/queries-and-paths';
import { pathOf, RequestPlan } from './support/requests';
import { caller } from './support/tokens-and-headers';

/*
 * Generated URLs: query strings on every route, path ids on the routes that take one, and
 * paths and methods the API does not have. The contract checked on every answer (no 5xx,
 * problem+json for every error, no table changed by a refusal) is in support/harness.ts.
 */
describe('Bad input on every route (generated): paths and query strings', () => {
  const harness = useBadInputHarness();
  const { anyOperation, requestsTo, check } = harness;

  // limit/skip/search/cursor garbage, repeated keys, bracket arrays, prototype keys, on every route.
  it(
    'answers generated query strings without a 5xx and with problem details',
    async () => {
      const plans = anyOperation().chain((operation) =>
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
      const templated = harness.operations.filter((operation) => operation.template.includes('{'));
      const plans = fc.constantFrom(...templated).chain((operation) =>
        requestsTo(operation, {
          path: fc.tuple(pathSegment, fc.boolean()).map(([segment, slash]) => pathOf(operation, segment, slash)),
        }),
      );
      await check(plans, 700, { mustReach: templated });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Paths and methods the API does not have, and documented paths with another method: problem details.
  it(
    'answers unknown paths and methods with problem details',
    async () => {
      const knownPathWrongMethod = fc
        .tuple(anyOperation(), fc.constantFrom(...ANY_METHOD))
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
});
