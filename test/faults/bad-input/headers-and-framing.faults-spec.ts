import fc from 'fast-check';
import { F } from './support/fixtures';
import { FRAMINGS } from './support/framing';
import { PROPERTY_TIMEOUT_MS, useBadInputHarness } from './support/harness';
import { authorization, extraHeaders } from './support/tokens-and-headers';

/*
 * The head of the request: generated Authorization headers (forged, expired, foreign, signed
 * with any claims, garbage) and other hostile headers on every route, then requests on raw
 * sockets with the HTTP framing broken (Content-Length that lies, chunking, oversized headers).
 * The contract checked on every answer (no 5xx, problem+json for every error, no table changed
 * by a refusal) is in support/harness.ts.
 */
describe('Bad input on every route (generated): tokens, headers and HTTP framing', () => {
  const harness = useBadInputHarness();
  const { anyOperation, requestsTo, check } = harness;

  // Forged, expired, foreign and malformed tokens, and odd headers, on every route.
  it(
    'answers forged tokens and hostile headers with 401 problem details or the normal answer, never a 5xx',
    async () => {
      const plans = anyOperation().chain((operation) =>
        requestsTo(operation, { authorization, headers: extraHeaders }),
      );
      // Most tokens here are refused by design: the other properties prove the routes are reached.
      await check(plans, 800, { mustReach: [] });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // What a client built on raw sockets can send: Content-Length that lies, chunking, oversized headers.
  it(
    'answers broken HTTP framing with problem details',
    async () => {
      const bodyOperations = harness.operations.filter((operation) => operation.bodyTypes.length > 0);
      const plans = fc
        .tuple(fc.constantFrom(...bodyOperations), fc.constantFrom(...FRAMINGS.map((framing) => framing.name)))
        .chain(([operation, framing]) =>
          requestsTo(operation, { authorization: fc.constant(F.aliceBearer) }).map((plan) => ({ ...plan, framing })),
        );
      await harness.checkOverSocket(plans, 100);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
