import { randomInt } from 'node:crypto';
import { Agent, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { isProblemAnswer, ProblemAnswer, problemBreaches } from '../../support/problem';

/** What became of one HTTP request: a status, or the error that came instead of one. */
export interface Outcome {
  method: string;
  url: string;
  /** Undefined when no response came (connection refused or reset, timeout). */
  status?: number;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON when it is JSON, else its text. */
  body: any;
  /** ECONNREFUSED, ECONNRESET, EPIPE, TIMEOUT, ... when no response came. */
  errorCode?: string;
  /** performance.now() when the request was sent and when its answer (or error) came. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
}

export interface HttpClientOptions {
  /**
   * The source address of every connection. The whole of 127.0.0.0/8 reaches 127.0.0.1 on
   * Linux, so a random one gives a test per-client counters (rate limits) of its own.
   */
  localAddress?: string;
  /** A request without an answer after this long is given up as TIMEOUT. */
  timeoutMs?: number;
}

/** A random loopback address other than 127.0.0.1, as a fresh "client" for the rate limits. */
export function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/** An HTTP/1.1 client on node:http with keep-alive connections, as a load balancer keeps them. */
export class HttpClient {
  readonly localAddress?: string;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions = {}) {
    this.localAddress = options.localAddress;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  request(method: string, url: string, options: RequestOptions = {}): Promise<Outcome> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
    } else if (options.form) {
      payload = Buffer.from(new URLSearchParams(options.form).toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (payload) {
      headers['content-length'] = String(payload.length);
    }
    const startedAt = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: Pick<Outcome, 'status' | 'headers' | 'body' | 'errorCode'>) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          const endedAt = performance.now();
          resolve({ method, url, ...result, startedAt, endedAt, durationMs: endedAt - startedAt });
        }
      };
      const fail = (error: NodeJS.ErrnoException) =>
        finish({ headers: {}, body: undefined, errorCode: error.code ?? error.message });
      const request = httpRequest(
        url,
        { method, headers, agent: this.agent, localAddress: this.localAddress },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            finish({ status: response.statusCode, headers: response.headers, body: parseBody(response.headers, text) });
          });
        },
      );
      const timer = setTimeout(
        () => request.destroy(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })),
        this.timeoutMs,
      );
      request.on('error', fail);
      request.end(payload);
    });
  }

  get(url: string, token?: string): Promise<Outcome> {
    return this.request('GET', url, { headers: bearer(token) });
  }

  post(url: string, json: unknown, token?: string): Promise<Outcome> {
    return this.request('POST', url, { headers: bearer(token), json });
  }

  close(): void {
    this.agent.destroy();
  }
}

function bearer(token?: string): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function parseBody(headers: IncomingHttpHeaders, text: string): unknown {
  if (/json/.test(headers['content-type'] ?? '') && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function problemAnswerOf(outcome: Outcome): ProblemAnswer {
  return { status: outcome.status, contentType: outcome.headers['content-type'], body: outcome.body };
}

/** Whether the answer is RFC 9457 problem details with this status (the rule is in test/support/problem.ts). */
export function isProblem(outcome: Outcome, status: number): boolean {
  return isProblemAnswer(problemAnswerOf(outcome), status);
}

/** Throws with the whole outcome unless it is problem+json with this status. */
export function expectProblem(outcome: Outcome, status: number): Outcome {
  const breaches = problemBreaches(problemAnswerOf(outcome), status);
  if (breaches.length > 0) {
    throw new Error(`Expected ${status} problem+json (${breaches.join('; ')}): ${describeOutcome(outcome)}`);
  }
  return outcome;
}

/** A short description of an outcome for failure messages. */
export function describeOutcome(outcome: Outcome): string {
  const answer =
    outcome.status === undefined
      ? `no answer (${outcome.errorCode})`
      : `${outcome.status} ${outcome.headers['content-type'] ?? ''} ${JSON.stringify(outcome.body).slice(0, 200)}`;
  return `${outcome.method} ${outcome.url} → ${answer} after ${Math.round(outcome.durationMs)} ms`;
}

/** Throws with the whole outcome when the status is not the expected one. */
export function expectStatus(outcome: Outcome, status: number): Outcome {
  if (outcome.status !== status) {
    throw new Error(`Expected ${status}: ${describeOutcome(outcome)}`);
  }
  return outcome;
}

export const FAULTS_PASSWORD = 'correct horse battery staple';

export interface ApiUser {
  id: number;
  email: string;
  token: string;
  refreshToken: string;
}

/** POST /users on one instance, then POST /login (the OAuth2 form) on another (or the same). */
export async function registerUser(
  client: HttpClient,
  registerOn: string,
  email: string,
  logInOn = registerOn,
): Promise<ApiUser> {
  const created = expectStatus(await client.post(`${registerOn}/users`, { email, password: FAULTS_PASSWORD }), 201);
  const login = expectStatus(
    await client.request('POST', `${logInOn}/login`, { form: { username: email, password: FAULTS_PASSWORD } }),
    200,
  );
  return {
    id: created.body.id,
    email: created.body.email,
    token: login.body.access_token,
    refreshToken: login.body.refresh_token,
  };
}

/** Runs `task` over the items with at most `concurrency` at a time; results in item order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
