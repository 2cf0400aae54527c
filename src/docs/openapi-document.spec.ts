import type { OpenAPIObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { createOpenApiDocumentOffline, serializeOpenApiDocument } from './openapi-document';

type Schema = {
  $ref?: string;
  type?: string;
  description?: string;
  example?: unknown;
  items?: Schema;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
};
type Parameter = { name: string; in: string; description?: string; example?: unknown; schema?: Schema };
type Response = {
  description?: string;
  headers?: Record<string, { $ref?: string; schema?: Schema }>;
  content?: Record<string, { schema?: Schema; example?: Record<string, unknown> }>;
};
type Operation = {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  responses: Record<string, Response>;
};

type HeaderObject = { $ref?: string; example?: unknown; schema?: { example?: unknown } };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Routes open without a token that still read the database (and so can answer 503). */
const PUBLIC_DATABASE_ROUTES = [
  'POST /users',
  'POST /login',
  'POST /auth/refresh',
  'POST /auth/verify-email',
  'POST /auth/password-reset',
  'POST /auth/password-reset/confirm',
  'GET /auth/verify-email',
  'GET /auth/password-reset',
  'POST /auth/password-reset/page',
  'GET /health',
  'GET /health/ready',
];
/** The pages a person opens from a mail: their own outcomes (400, 422) are HTML pages, not problem+json. */
const PAGE_ROUTES = ['GET /auth/verify-email', 'GET /auth/password-reset', 'POST /auth/password-reset/page'];
/** Routes whose 429 is a limit of their own, not the request limit: the start of its `detail`. */
const OWN_LIMITS: Record<string, RegExp> = {
  'POST /login': /^Too many failed logins/,
  'POST /auth/password-reset': /^At most 5 password resets an hour/,
  'POST /auth/verify-email/resend': /^At most 5 verification mails an hour/,
};
/** Routes open without a token that read nothing but the configuration. */
const PUBLIC_STATIC_ROUTES = ['GET /'];

/** The health checks: not rate limited, so without 429 and rate-limit headers. */
const HEALTH_ROUTES = ['GET /health', 'GET /health/ready'];

/** Fields and parameters allowed to lack a description or an example: none. */
const KNOWN_GAPS: string[] = [];

/** The API's nouns, as a client generator shows them: no `Dto`. */
const SCHEMA_NAMES = [
  'User',
  'Me',
  'AdminUser',
  'NewUser',
  'AccountChanges',
  'EmailVerification',
  'PasswordResetRequest',
  'PasswordReset',
  'Accepted',
  'RoleChange',
  'PasswordChange',
  'AccountDeletion',
  'Post',
  'NewPost',
  'PostReplacement',
  'PostChanges',
  'Vote',
  'VoteResult',
  'Comment',
  'NewComment',
  'CommentChanges',
  'Credentials',
  'RefreshRequest',
  'Tokens',
  'Session',
  'Activity',
  'Problem',
  'FieldError',
  'HealthProblem',
  'ReadinessProblem',
  'Health',
  'Readiness',
  'ReplicaHealth',
  'ServiceHome',
  'ServiceLinks',
];

const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];

function operationsOf(document: OpenAPIObject): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

function missing(thing: { description?: string; example?: unknown }, hasOwnExample: boolean): string[] {
  return [...(thing.description ? [] : ['description']), ...(hasOwnExample ? [] : ['example'])];
}

describe('the OpenAPI document', () => {
  let document: OpenAPIObject;
  let operations: [string, Operation][];

  beforeAll(async () => {
    document = await createOpenApiDocumentOffline();
    operations = operationsOf(document);
  });

  function schemaOf(ref = ''): Schema {
    return (document.components?.schemas ?? {})[ref.replace('#/components/schemas/', '')] as Schema;
  }

  it('is built without a database, and twice in a row to the same text', async () => {
    const again = await createOpenApiDocumentOffline();

    expect(serializeOpenApiDocument(again)).toBe(serializeOpenApiDocument(document));
  });

  it('is what the committed openapi.json holds (run `npm run openapi` after changing the API)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8');

    expect(committed).toBe(serializeOpenApiDocument(document));
  });

  it('explains the token flow at the top: POST /login, the Authorization header, and "Authorize"', () => {
    const description = document.info.description ?? '';

    expect(description).toContain('POST /login');
    expect(description).toContain('Authorization: Bearer <access_token>');
    expect(description).toContain('Authorize');
    expect(description).toContain('reload');
  });

  it('gives every operation its stable operationId, a summary, and one declared tag', () => {
    const tags = (document.tags ?? []).map((tag) => tag.name);

    expect(Object.fromEntries(operations.map(([name, operation]) => [name, operation.operationId]))).toEqual({
      'GET /': 'service_home',
      'POST /login': 'auth_login',
      'POST /auth/refresh': 'auth_refresh',
      'POST /auth/logout': 'auth_logout',
      'GET /auth/sessions': 'auth_sessions_list',
      'DELETE /auth/sessions/{id}': 'auth_sessions_delete',
      'POST /users': 'users_create',
      'GET /users/me': 'users_me',
      'DELETE /users/me': 'users_delete_me',
      'PUT /users/me/password': 'users_change_password',
      'GET /users/{id}': 'users_get',
      'PATCH /users/me': 'users_update_me',
      'GET /users/me/activity': 'users_activity',
      'GET /admin/users': 'admin_users_list',
      'PUT /admin/users/{id}/role': 'admin_users_set_role',
      'POST /admin/users/{id}/disable': 'admin_users_disable',
      'POST /admin/users/{id}/enable': 'admin_users_enable',
      'POST /auth/verify-email': 'accounts_verify_email',
      'POST /auth/verify-email/resend': 'accounts_resend_verification',
      'POST /auth/password-reset': 'accounts_request_password_reset',
      'POST /auth/password-reset/confirm': 'accounts_reset_password',
      'GET /auth/verify-email': 'accounts_verify_email_page',
      'GET /auth/password-reset': 'accounts_password_reset_page',
      'POST /auth/password-reset/page': 'accounts_password_reset_form',
      'GET /posts': 'posts_list',
      'GET /users/me/posts': 'posts_mine',
      'GET /users/{id}/posts': 'posts_of_user',
      'POST /posts': 'posts_create',
      'GET /posts/{id}': 'posts_get',
      'PUT /posts/{id}': 'posts_replace',
      'PATCH /posts/{id}': 'posts_update',
      'DELETE /posts/{id}': 'posts_delete',
      'POST /vote': 'votes_vote',
      'GET /posts/{id}/comments': 'comments_list',
      'POST /posts/{id}/comments': 'comments_create',
      'GET /comments/{id}': 'comments_get',
      'PATCH /comments/{id}': 'comments_update',
      'DELETE /comments/{id}': 'comments_delete',
      'PUT /posts/{id}/vote': 'votes_put',
      'DELETE /posts/{id}/vote': 'votes_delete',
      'GET /health': 'health_check',
      'GET /health/ready': 'health_ready',
    });
    expect(tags).toEqual(['service', 'users', 'auth', 'accounts', 'posts', 'votes', 'comments', 'admin', 'health']);
    for (const [name, operation] of operations) {
      expect({ name, summary: Boolean(operation.summary), tags: operation.tags }).toEqual({
        name,
        summary: true,
        tags: [expect.stringMatching(new RegExp(`^(${tags.join('|')})$`))],
      });
      expect(operation.operationId?.startsWith(`${operation.tags?.[0]}_`)).toBe(true);
    }
  });

  it('describes every field, with an example, and every parameter, but for the known gaps', () => {
    const gaps: string[] = [];
    for (const [schemaName, schema] of Object.entries((document.components?.schemas ?? {}) as Record<string, Schema>)) {
      for (const [field, property] of Object.entries(schema.properties ?? {})) {
        // A nested object or a list of them shows its own fields' examples.
        const nested = Boolean(property.$ref ?? property.allOf ?? property.items?.$ref);
        const lacking = missing(property, nested || property.example !== undefined);
        if (lacking.length > 0) {
          gaps.push(`${schemaName}.${field}: ${lacking.join(', ')}`);
        }
      }
    }
    for (const [name, operation] of operations) {
      for (const parameter of operation.parameters ?? []) {
        const lacking = missing(parameter, (parameter.example ?? parameter.schema?.example) !== undefined);
        if (lacking.length > 0) {
          gaps.push(`${name} ${parameter.name}: ${lacking.join(', ')}`);
        }
      }
    }

    expect(gaps.sort()).toEqual([...KNOWN_GAPS].sort());
  });

  it('names every schema after a noun of the API', () => {
    const names = Object.keys(document.components?.schemas ?? {});

    expect(names.filter((name) => !SCHEMA_NAMES.includes(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['User', 'Post', 'NewPost', 'PostReplacement', 'PostChanges']));
    expect(names).toEqual(expect.arrayContaining(['Vote', 'Tokens', 'Session', 'Problem', 'FieldError']));
  });

  it('uses the nouns for the bodies and answers of the routes', () => {
    const operation = (route: string) => operations.find(([name]) => name === route)?.[1];
    const json = (content?: Record<string, { schema?: Schema }>) => content?.['application/json']?.schema;
    const named = (schema?: Schema) => (schema?.items ?? schema)?.$ref?.replace('#/components/schemas/', '');
    const bodies = [
      'POST /users',
      'POST /login',
      'POST /auth/refresh',
      'POST /posts',
      'PUT /posts/{id}',
      'PATCH /posts/{id}',
      'POST /vote',
      'POST /posts/{id}/comments',
      'PATCH /comments/{id}',
      'PUT /users/me/password',
      'DELETE /users/me',
      'PATCH /users/me',
      'POST /auth/verify-email',
      'POST /auth/password-reset',
      'POST /auth/password-reset/confirm',
    ];
    const answers: [string, string][] = [
      ['POST /users', '201'],
      ['GET /users/me', '200'],
      ['PATCH /users/me', '200'],
      ['POST /auth/password-reset', '202'],
      ['POST /auth/verify-email/resend', '202'],
      ['POST /login', '200'],
      ['GET /posts', '200'],
      ['GET /posts/{id}', '200'],
      ['GET /posts/{id}/comments', '200'],
      ['POST /posts/{id}/comments', '201'],
      ['GET /comments/{id}', '200'],
      ['PATCH /comments/{id}', '200'],
      ['GET /auth/sessions', '200'],
      ['GET /', '200'],
      ['GET /health', '200'],
    ];

    expect(
      Object.fromEntries(bodies.map((route) => [route, named(json(operation(route)?.requestBody?.content))])),
    ).toEqual({
      'POST /users': 'NewUser',
      'POST /login': 'Credentials',
      'POST /auth/refresh': 'RefreshRequest',
      'POST /posts': 'NewPost',
      'PUT /posts/{id}': 'PostReplacement',
      'PATCH /posts/{id}': 'PostChanges',
      'POST /vote': 'Vote',
      'POST /posts/{id}/comments': 'NewComment',
      'PATCH /comments/{id}': 'CommentChanges',
      'PUT /users/me/password': 'PasswordChange',
      'DELETE /users/me': 'AccountDeletion',
      'PATCH /users/me': 'AccountChanges',
      'POST /auth/verify-email': 'EmailVerification',
      'POST /auth/password-reset': 'PasswordResetRequest',
      'POST /auth/password-reset/confirm': 'PasswordReset',
    });
    expect(
      Object.fromEntries(
        answers.map(([route, status]) => [route, named(json(operation(route)?.responses[status]?.content))]),
      ),
    ).toEqual({
      'POST /users': 'User',
      'GET /users/me': 'Me',
      'PATCH /users/me': 'Me',
      'POST /auth/password-reset': 'Accepted',
      'POST /auth/verify-email/resend': 'Accepted',
      'POST /login': 'Tokens',
      'GET /posts': 'Post',
      'GET /posts/{id}': 'Post',
      'GET /posts/{id}/comments': 'Comment',
      'POST /posts/{id}/comments': 'Comment',
      'GET /comments/{id}': 'Comment',
      'PATCH /comments/{id}': 'Comment',
      'GET /auth/sessions': 'Session',
      'GET /': 'ServiceHome',
      'GET /health': 'Health',
    });
  });

  it('names this instance as its server, relative to the address that served the document', () => {
    expect(document.servers).toEqual([
      { url: '/', description: expect.stringMatching(/local.*production/), 'x-internal': false },
    ]);
  });

  it('documents every error as problem+json with an example of that status', () => {
    for (const [name, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses).filter(([code]) => /^[45]/.test(code))) {
        const where = `${name} ${status}`;
        if (PAGE_ROUTES.includes(name) && ['400', '422'].includes(status)) {
          expect({ where, types: Object.keys(response.content ?? {}) }).toEqual({ where, types: ['text/html'] });
          continue;
        }
        expect({ where, types: Object.keys(response.content ?? {}) }).toEqual({
          where,
          types: ['application/problem+json'],
        });
        const { schema, example } = response.content?.['application/problem+json'] ?? {};
        expect({ where, schema }).toEqual({
          where,
          schema: {
            $ref: HEALTH_ROUTES.includes(name)
              ? expect.stringMatching(/^#\/components\/schemas\/(HealthProblem|ReadinessProblem)$/)
              : '#/components/schemas/Problem',
          },
        });
        // The example fits its schema: no member the schema does not describe.
        const described = Object.keys(schemaOf(schema?.$ref).properties ?? {});
        expect({
          where,
          undescribed: Object.keys(example ?? {}).filter((member) => !described.includes(member)),
        }).toEqual({ where, undescribed: [] });
        expect({ where, example }).toEqual({
          where,
          example: expect.objectContaining({
            type: 'about:blank',
            title: STATUS_CODES[status],
            status: Number(status),
            detail: expect.stringMatching(/\S/),
          }),
        });
        if (status === '422') {
          expect({ where, errors: example?.errors }).toEqual({
            where,
            errors: [expect.objectContaining({ field: expect.any(String), message: expect.any(String) })],
          });
        }
      }
    }
  });

  it('puts the oauth2 requirement, 401 and 503 on every protected route, and 503 on the public ones that read the database', () => {
    for (const [name, operation] of operations.filter(([route]) => !PUBLIC_STATIC_ROUTES.includes(route))) {
      const isPublic = PUBLIC_DATABASE_ROUTES.includes(name);
      // A public route says so (`security: []`) rather than leaving it unsaid.
      expect({ name, security: operation.security }).toEqual({
        name,
        security: isPublic ? [] : [{ oauth2: [] }],
      });
      const statuses = Object.keys(operation.responses);
      expect({ name, statuses }).toEqual({
        name,
        statuses: expect.arrayContaining(isPublic ? ['503'] : ['401', '503']),
      });
    }
  });

  it('opens the front door without a token', () => {
    for (const [name, operation] of operations.filter(([route]) => PUBLIC_STATIC_ROUTES.includes(route))) {
      expect({ name, security: operation.security }).toEqual({ name, security: [] });
    }
  });

  it('describes the token: a short-lived HS256 JWT per RFC 8725, renewed at /auth/refresh', () => {
    const scheme = document.components?.securitySchemes?.oauth2 as {
      description?: string;
      flows?: { password?: { tokenUrl?: string; refreshUrl?: string } };
    };

    expect(scheme.flows?.password).toEqual(
      expect.objectContaining({ tokenUrl: '/login', refreshUrl: '/auth/refresh' }),
    );
    expect(scheme.description).toMatch(/RFC8725/);
    expect(scheme.description).toMatch(/HS256/);
    expect(scheme.description).toMatch(/30 minutes/);
  });

  it('documents the 429 of the request limit, with Retry-After and the rate-limit headers, on every route but the health checks', () => {
    for (const [name, operation] of operations) {
      const tooMany = operation.responses['429'];
      if (HEALTH_ROUTES.includes(name)) {
        expect({ name, tooMany }).toEqual({ name, tooMany: undefined });
        continue;
      }
      expect({ name, headers: Object.keys(tooMany?.headers ?? {}).sort() }).toEqual({
        name,
        headers: ['Retry-After', ...RATE_LIMIT_HEADERS].sort(),
      });
      const example = tooMany.content?.['application/problem+json'].example;
      const retryAfter = tooMany.headers?.['Retry-After'].schema?.example;
      expect({ name, detail: example?.detail }).toEqual({
        name,
        detail:
          name in OWN_LIMITS
            ? expect.stringMatching(OWN_LIMITS[name])
            : 'Too many requests from your address; try again in 17 seconds.',
      });
      expect({ name, retryAfter }).toEqual({
        name,
        retryAfter: Number(/in (\d+) seconds/.exec(String(example?.detail))?.[1]),
      });
    }
  });

  it('documents the rate-limit headers on every 2xx and 4xx answer but those of the health checks', () => {
    for (const [name, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses).filter(([code]) => /^[24]/.test(code))) {
        const where = `${name} ${status}`;
        const headers = Object.keys(response.headers ?? {}).filter((header) => header.startsWith('X-RateLimit-'));
        expect({ where, headers }).toEqual({ where, headers: HEALTH_ROUTES.includes(name) ? [] : RATE_LIMIT_HEADERS });
      }
    }
    expect(Object.keys(document.components?.headers ?? {})).toEqual(RATE_LIMIT_HEADERS);
  });

  it('tells on a 401 without a token to send the Authorization header with a token from POST /login', () => {
    const [, me] = operations.find(([name]) => name === 'GET /users/me') as [string, Operation];
    const answer = me.responses['401'];

    expect(answer.content?.['application/problem+json'].example?.detail).toMatch(
      /Authorization: Bearer <access_token>.*POST \/login/,
    );
    expect(answer.headers).toHaveProperty('WWW-Authenticate');
  });

  it('documents the 429 of POST /login with its Retry-After header', () => {
    const [, login] = operations.find(([name]) => name === 'POST /login') as [string, Operation];

    expect(login.responses['429'].headers).toHaveProperty('Retry-After');
    expect(login.responses['429'].content?.['application/problem+json'].example?.detail).toMatch(/try again in/);
  });

  it('gives every response header an example (the Postman converter invents random ones otherwise)', () => {
    const lacking: string[] = [];
    for (const [name, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [header, value] of Object.entries((response.headers ?? {}) as Record<string, HeaderObject>)) {
          if (value.$ref === undefined && value.example === undefined && value.schema?.example === undefined) {
            lacking.push(`${name} ${status} ${header}`);
          }
        }
      }
    }
    expect(lacking).toEqual([]);
  });

  it('lists responses by status code', () => {
    for (const [name, operation] of operations) {
      const statuses = Object.keys(operation.responses);
      expect({ name, statuses }).toEqual({ name, statuses: [...statuses].sort() });
    }
  });
});
