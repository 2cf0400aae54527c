import fc from 'fast-check';
import { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { ActivityService } from '../../../../src/activity/activity.service';
import { createTestApp, TestApp } from '../../../support/test-app';
import { plausibleBodyOf } from './bodies';
import {
  changedTables,
  contractBreaches,
  isRecordedLoginRefusal,
  isRefreshTokenReuseRevocation,
  isSuccess,
  snapshot,
  snapshotQueryOf,
  tablesOf,
} from './contract';
import { createFixtures, restoreFixtures } from './fixture-state';
import { POST_IDS } from './fixtures';
import { sendOverSocket } from './framing';
import { keyOf, Method, OpenApiDocument, Operation, operationsOf } from './operations';
import {
  Answer,
  describable,
  describeExchange,
  FixtureState,
  pathOf,
  REQUEST_TIMEOUT_MS,
  RequestPlan,
  resolvePlan,
  SentRequest,
} from './requests';
import { caller } from './tokens-and-headers';

/*
 * Generated bad input, sent over real HTTP to every route of the served OpenAPI document
 * (and to the docs pages and to paths that do not exist). Whatever a client sends, the
 * contract promises three things, checked on every answer:
 *   1. no 5xx: the database is up, so nothing a client sends may become a 500 (or a 503);
 *   2. every answer that is not 2xx is problem+json with type, title, status and detail;
 *   3. a refused request changes no table.
 * Set FAST_CHECK_SEED to replay a run; fast-check prints the seed of a failing run.
 *
 * Each spec file of test/faults/bad-input/ calls `useBadInputHarness()` in its describe: one
 * app (in this Jest process, listening on 127.0.0.1) on a database of its own, with the fixtures.
 */

/** The global and login rate limits would turn a fuzzing run into a wall of 429s. */
const APP_ENVIRONMENT = {
  RATE_LIMIT_MAX: '1000000',
  // The most the configuration accepts; far more failures than one run makes for one e-mail.
  LOGIN_MAX_FAILURES: '1000',
};
const SEED = process.env.FAST_CHECK_SEED === undefined ? undefined : Number(process.env.FAST_CHECK_SEED);
/** Room for fast-check to shrink a failure to its smallest request. */
export const PROPERTY_TIMEOUT_MS = 300_000;

type Send = (request: SentRequest) => Promise<Answer>;

export interface BadInputHarness {
  /** The documented routes and the docs pages (read from /openapi.json once the app is up). */
  readonly operations: Operation[];
  anyOperation: () => fc.Arbitrary<Operation>;
  /** Requests to one documented route: a real post id, mostly alice, a body that could pass, unless told otherwise. */
  requestsTo: (
    operation: Operation,
    parts?: Partial<{ [part in keyof RequestPlan]: fc.Arbitrary<RequestPlan[part]> }>,
  ) => fc.Arbitrary<RequestPlan>;
  /**
   * Runs the property: every generated request is sent and checked against the contract.
   * Every route of `mustReach` (all of them unless told otherwise) must also have answered at
   * least once with something other than 401 (any answer, on a public route): proof that the
   * generated input reached what the guard protects.
   */
  check: (plans: fc.Arbitrary<RequestPlan>, numRuns: number, options?: { mustReach?: Operation[] }) => Promise<void>;
  /** Like `check`, each request sent on a raw socket with its broken framing (see framing.ts). */
  checkOverSocket: (plans: fc.Arbitrary<RequestPlan>, numRuns: number) => Promise<void>;
}

/** Starts the app and its fixtures before the describe block's tests and closes them after. */
export function useBadInputHarness(): BadInputHarness {
  let t: TestApp;
  let operations: Operation[];
  let snapshotQuery: string;
  let state: FixtureState;

  /**
   * Waits until the password-reset requests of earlier exchanges are answered: the
   * background work that writes their tokens and events (and deletes the request, in the
   * same transaction) must not land inside the next exchange's before/after snapshots.
   */
  async function resetRequestsAnswered(db: Pool): Promise<void> {
    for (let tries = 0; tries < 200; tries += 1) {
      const { rows } = await db.query<{ waiting: number }>(
        'SELECT count(*)::int AS waiting FROM password_reset_requests',
      );
      if (rows[0].waiting === 0) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('password-reset requests stayed unanswered for 5 s');
  }

  /** Waits for the refused logins' events, written off the answer's path (ActivityService.recordRefusedLogin). */
  function refusedLoginsRecorded(): Promise<void> {
    return t.app.get(ActivityService).settled();
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
  async function exercise(plan: RequestPlan, send: Send): Promise<number> {
    const request = resolvePlan(plan, state);
    await resetRequestsAnswered(t.db);
    await refusedLoginsRecorded();
    const before = await snapshot(t.db, snapshotQuery);
    let answer: Answer;
    try {
      answer = await send(request);
    } catch (error) {
      state = await restoreFixtures(t, state);
      throw new Error(`No answer (${(error as Error).message})\n${describeExchange(request, undefined)}`);
    }
    // A refused login's event is written just after its answer: it belongs to this exchange.
    await refusedLoginsRecorded();
    const after = await snapshot(t.db, snapshotQuery);
    const breaches = contractBreaches(plan, answer);
    const changed = changedTables(before, after);
    if (
      changed.length > 0 &&
      !isSuccess(answer.status) &&
      !isRefreshTokenReuseRevocation(request, answer, before, after) &&
      !isRecordedLoginRefusal(request, answer, before, after)
    ) {
      breaches.push(`a refused request (${answer.status}) changed the tables ${changed.join(', ')}`);
    }
    if (changed.length > 0 || (isSuccess(answer.status) && !['GET', 'HEAD'].includes(plan.method))) {
      state = await restoreFixtures(t, state);
    }
    if (breaches.length > 0) {
      throw new Error(`${breaches.join('\n')}\n${describeExchange(request, answer)}`);
    }
    return answer.status;
  }

  async function run(
    plans: fc.Arbitrary<RequestPlan>,
    numRuns: number,
    mustReach: Operation[],
    send: Send,
  ): Promise<void> {
    const reachedPastGuard = new Set<string>();
    await fc.assert(
      fc.asyncProperty(plans.map(describable), async (plan) => {
        const status = await exercise(plan, send);
        // A public route has no guard: its 401 (POST /login's "Invalid credentials") is its own rule's answer.
        if (plan.operation && (status !== 401 || !plan.operation.secured)) {
          reachedPastGuard.add(keyOf(plan.operation));
        }
      }),
      { numRuns, seed: SEED },
    );
    const routes = mustReach.map(keyOf);
    expect([...reachedPastGuard].filter((route) => routes.includes(route)).sort()).toEqual(routes.sort());
  }

  beforeAll(async () => {
    t = await createTestApp(APP_ENVIRONMENT);
    // One listening server for every request (and for the raw sockets of framing.ts).
    await t.app.listen(0, '127.0.0.1');
    const document = (await t.http().get('/openapi.json').expect(200)).body as OpenApiDocument;
    operations = operationsOf(document);

    const tables = await tablesOf(t.db);
    expect(tables).toEqual(expect.arrayContaining(['users', 'posts', 'votes', 'sessions']));
    snapshotQuery = snapshotQueryOf(tables);

    state = await createFixtures(t);
  });

  afterAll(async () => {
    await t?.close();
  });

  return {
    get operations() {
      return operations;
    },
    anyOperation: () => fc.constantFrom(...operations),
    requestsTo: (operation, parts = {}) =>
      fc.record({
        operation: fc.constant(operation),
        method: fc.constant(operation.method),
        path: parts.path ?? fc.constantFrom(...POST_IDS).map((id) => pathOf(operation, id)),
        query: parts.query ?? fc.constant(undefined),
        authorization: parts.authorization ?? caller,
        headers: parts.headers ?? fc.constant({}),
        body: parts.body ?? plausibleBodyOf(operation),
      }),
    check: (plans, numRuns, { mustReach = operations } = {}) => run(plans, numRuns, mustReach, sendWithSupertest),
    checkOverSocket: (plans, numRuns) => {
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      return run(plans, numRuns, [], (request) => sendOverSocket(port, request));
    },
  };
}
