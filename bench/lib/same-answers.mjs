// Before anything is measured: the baseline must answer each shared scenario as the app
// does (status, JSON body, Link, ETag and Location headers), or its req/s would not be the
// same work. A new comment differs only in its id and times.
import { isDeepStrictEqual } from 'node:util';

/** Fields a write makes differ between two servers writing the same thing. */
const WRITTEN = new Set(['id', 'created_at', 'updated_at']);

/**
 * Sends each scenario's `sample` request (`{ method, path, body? }`) to both servers with
 * `token` and returns the differences found, one line each (none: the same answers).
 * `runsOn` picks the scenarios that run on `baseline` (default: the shared ones).
 */
export async function compareAnswers(scenarios, app, baseline, token, runsOn = (s) => s.both) {
  const differences = [];
  for (const scenario of scenarios.filter((s) => runsOn(s) && s.sample)) {
    const [mine, theirs] = await Promise.all([app.url, baseline.url].map((url) => answer(url, scenario.sample, token)));
    const written = scenario.sample.method !== 'GET';
    const problems = [];
    if (mine.status !== theirs.status) problems.push(`status ${mine.status} vs ${theirs.status}`);
    for (const header of ['link', 'etag']) {
      const [x, y] = [mine.headers.get(header), theirs.headers.get(header)];
      if (x !== y) problems.push(`${header} ${x} vs ${y}`);
    }
    const location = (a) => (written ? a.headers.get('location')?.replace(/\d+$/, '{id}') : a.headers.get('location'));
    if (location(mine) !== location(theirs)) problems.push(`Location ${location(mine)} vs ${location(theirs)}`);
    const body = (a) => (written ? withoutWritten(a.body) : a.body);
    if (!isDeepStrictEqual(body(mine), body(theirs))) {
      problems.push(`body ${JSON.stringify(mine.body).slice(0, 300)} vs ${JSON.stringify(theirs.body).slice(0, 300)}`);
    }
    if (problems.length > 0) differences.push(`${scenario.name} (${baseline.name}): ${problems.join('; ')}`);
  }
  return differences;
}

async function answer(baseUrl, { method, path, body }, token) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The comment's own id and times left out; its author's kept (the same user on both). */
function withoutWritten(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([key]) => !WRITTEN.has(key)));
}
