/**
 * The one rule for "this is an RFC 9457 problem details answer with this status", whatever
 * client got the answer: supertest in the e2e specs (`expectProblem` in test-app.ts), node:http
 * in the fault specs (`isProblem`/`expectProblem` in faults/support/load.ts), and the generated
 * bad input (faults/bad-input/support/contract.ts).
 */

/** An answer as the rule sees it. */
export interface ProblemAnswer {
  /** Undefined when no answer came (connection refused or reset, timeout). */
  status: number | undefined;
  contentType: string | undefined;
  /** The body parsed as JSON; anything else (text, undefined) is not problem details. */
  body: unknown;
}

/**
 * How the answer falls short of problem+json with `status`: an empty list when it is one.
 * The Content-Type is application/problem+json; the body is an object whose `status` is the
 * answer's and whose `type`, `title` and `detail` are non-empty text. `hasBody: false` is for
 * answers that carry only the headers of one (HEAD).
 */
export function problemBreaches(answer: ProblemAnswer, status: number, { hasBody = true } = {}): string[] {
  if (answer.status === undefined) {
    return [`no answer came, not a ${status}`];
  }
  const breaches: string[] = [];
  if (answer.status !== status) {
    breaches.push(`answered ${answer.status}, not ${status}`);
  }
  const contentType = answer.contentType ?? '';
  if (!/^application\/problem\+json\b/.test(contentType)) {
    breaches.push(`the Content-Type is "${contentType}", not application/problem+json`);
  }
  if (!hasBody) {
    return breaches;
  }
  const problem = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<
    string,
    unknown
  >;
  for (const member of ['type', 'title', 'detail']) {
    if (typeof problem[member] !== 'string' || problem[member] === '') {
      breaches.push(`the problem details have no "${member}" text`);
    }
  }
  if (problem.status !== status) {
    breaches.push(`the problem's status is ${JSON.stringify(problem.status)}, not ${status}`);
  }
  return breaches;
}

/** Whether the answer is problem+json with this status. */
export function isProblemAnswer(answer: ProblemAnswer, status: number): boolean {
  return problemBreaches(answer, status).length === 0;
}
