import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, type ServerObject, SwaggerModule } from '@nestjs/swagger';
import { pino } from 'pino';
import { AppModule } from '../app.module';
import { RATE_LIMIT_HEADER_DEFINITIONS } from '../common/api-problem';
import { documentationConfiguration } from '../config/configuration';
import { REQUEST_ID_HEADER } from '../entrance/request-id';

/** The groups of /docs and /redoc, in the order a newcomer needs them. */
const TAGS: [name: string, description: string][] = [
  ['service', 'The front door: the service, its version, and where its docs and health check are.'],
  [
    'users',
    'Register, read accounts (by id or username), change your username, e-mail or password, read your security activity, delete your account.',
  ],
  ['auth', 'Log in (OAuth2 password grant), refresh tokens, log out, list and end your sessions.'],
  [
    'accounts',
    'Get back into an account: verify your e-mail address, reset a forgotten password, and the pages the links in the mails open.',
  ],
  ['posts', 'Write, read, change and delete posts. You see every published post and your own drafts.'],
  ['votes', 'One vote per user and post: add it or take it back.'],
  [
    'comments',
    'Comment on the posts you can see, change your comments, delete yours or those on your posts. A comment exists exactly when its post does.',
  ],
  ['admin', 'For admins: list accounts, change their roles, disable and enable them.'],
  ['health', 'Whether the service and its database answer, and whether this instance takes traffic.'],
];

const DESCRIPTION = [
  '**Getting a token.** Register with `POST /users`, then `POST /login` with your e-mail or username as `username` and your `password` (a form or JSON): it answers an `access_token` and a `refresh_token`.',
  '**Using it.** Send the header `Authorization: Bearer <access_token>` on every other route (Postman: Authorization, type "Bearer Token"); without it the answer is 401. When it expires, `POST /auth/refresh` with the `refresh_token` gives you new tokens.',
  '**In [/docs](/docs).** Click **Authorize**, enter your e-mail (or username) as username and your password (leave client_id and client_secret empty): every "Try it out" then sends the token, and the login survives a reload until you click Logout.',
  '',
  'Every error is `application/problem+json` (RFC 9457) with a `detail` that says what to do next; a 422 lists each bad field in `errors`. The same document, read-only: [/redoc](/redoc); as JSON: [/openapi.json](/openapi.json).',
  `**Limits.** Each client address may send a number of requests per time window to the routes below (the health checks aside); the \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and \`X-RateLimit-Reset\` headers say where you stand, and beyond it the answer is 429 with \`Retry-After\`. Every answer carries an \`${REQUEST_ID_HEADER}\` header (yours, when you send one): quote it when you report a problem.`,
].join('\n\n');

const SERVER_DESCRIPTION =
  'The instance that serves this document, in every environment (local, staging or production): ' +
  'the paths are relative to its address.';

/** Everything of the document that is not read from the controllers. */
function documentConfig(): Omit<OpenAPIObject, 'paths'> {
  const builder = new DocumentBuilder()
    .setTitle('Posts API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addOAuth2(
      {
        type: 'oauth2',
        description:
          'Log in with your e-mail or username (as username) and password; client_id and client_secret stay empty. ' +
          'Then send `Authorization: Bearer <access_token>`. The access token is a JWT signed with HS256 that ' +
          'expires 30 minutes after the login (ACCESS_TOKEN_EXPIRE_MINUTES); renew it with the refresh token at ' +
          '`/auth/refresh`. Tokens follow the JSON Web Token Best Current Practices (RFC8725): only HS256 with ' +
          "the service's secret is accepted (`alg: none` and every other algorithm are refused), and `exp`, `sub` " +
          'and `sid` are required and checked.',
        flows: { password: { tokenUrl: '/login', refreshUrl: '/auth/refresh', scopes: {} } },
      },
      'oauth2',
    );
  for (const [name, description] of TAGS) {
    builder.addTag(name, description);
  }
  const config = builder.build();
  return {
    ...config,
    // Relative: the document is served by the instance it describes, wherever that runs.
    servers: [{ url: '/', description: SERVER_DESCRIPTION, 'x-internal': false } as ServerObject],
    components: { ...config.components, headers: RATE_LIMIT_HEADER_DEFINITIONS },
  };
}

function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Responses by status and schemas by name, wherever the decorators put them. Paths keep
 * the order of the modules and controllers: it is the reading order of the page
 * (`POST /users`, then `POST /login`, ...), and as fixed as the code.
 */
function inCanonicalOrder(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (operation && typeof operation === 'object' && operation.responses) {
        operation.responses = sortedByKey(operation.responses);
      }
    }
  }
  if (document.components?.schemas) {
    document.components.schemas = sortedByKey(document.components.schemas);
  }
  return document;
}

/**
 * The OpenAPI document of the app: what /docs, /redoc and /openapi.json serve and what
 * `npm run openapi` writes to `openapi.json`, from this one function.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(app, documentConfig(), {
    operationIdFactory: (_controller, method) => method,
  });
  return inCanonicalOrder(document);
}

/** The document as `openapi.json` holds it: two-space JSON and a final newline. */
export function serializeOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * The document without a running app or database, for `npm run openapi`: Nest's preview
 * mode reads the modules and controllers but instantiates no provider, so nothing
 * connects. Its configuration is fixed, so the document depends on no environment.
 */
export async function createOpenApiDocumentOffline(): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ configuration: documentationConfiguration(), logger: pino({ enabled: false }) }),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
