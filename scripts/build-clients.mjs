// `npm run clients`: builds the ready-made API clients from openapi.json.
//   clients/postman/posts-api.postman_collection.json  every route (by tag, converted by
//     openapi-to-postmanv2), plus a "walk-through" folder; Bearer auth for the collection
//   clients/postman/posts-api.postman_environment.json baseUrl, the tokens, what the
//     requests keep
//   clients/walkthrough.http                            the same walk-through for VS Code's
//     REST Client, JetBrains' HTTP client and httpyac
// `npm run clients:check` (--check) writes nothing and fails when the committed files differ.
//
// It knows routes only by operationId, and reads fields and their types from the answers
// the document describes, never from schema names. To give a new route more than the
// converter makes of it, add a line to OPERATIONS; to show it to a newcomer, add a step to
// WALKTHROUGH.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Converter from 'openapi-to-postmanv2';
import { printDiff } from './print-diff.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const COLLECTION_FILE = 'clients/postman/posts-api.postman_collection.json';
const ENVIRONMENT_FILE = 'clients/postman/posts-api.postman_environment.json';
const HTTP_FILE = 'clients/walkthrough.http';

const DEFAULT_BASE_URL = 'http://localhost:8000';
/** The account the reference requests use until the walk-through registers its own. */
const DEFAULT_EMAIL = 'alice@example.com';
const DEFAULT_PASSWORD = 'correct horse battery staple';

// Values in requests. Postman reads `{{name}}` from the environment; the .http file reads
// a named answer (`{{login.response.body.access_token}}`) or a variable of the file.

/** A variable of the Postman environment (and of the .http file, where it has one). */
const variable = (name) => ({ variable: name });
/** A field of an earlier step's answer; in Postman, the variable that step keeps it in. */
const answer = (step, field) => ({ answer: step, field });
/** A new e-mail address on every run. */
const newEmail = () => ({ newEmail: true });
/** A field of the schema's example left out of the body (an optional one whose example value would collide). */
const OMITTED = { omitted: true };

/**
 * What the converter cannot know about a route, by operationId: values for its body or
 * form and its path variables that work as they are, and what its answer keeps in the
 * environment for later requests (name: a JavaScript expression over `body`).
 */
const OPERATIONS = {
  users_create: {
    // No username: the example's would be taken from the second run on.
    body: { email: variable('email'), password: variable('password'), username: OMITTED },
    keep: { user_id: 'body.id', email: 'body.email' },
  },
  users_me: { keep: { user_id: 'body.id' } },
  users_get: { path: { id: variable('user_id') } },
  users_change_password: {
    body: { current_password: variable('password') },
    // The environment's password stays the one that logs in.
    afterSuccess: ["pm.environment.set('password', JSON.parse(pm.request.body.raw).new_password);"],
  },
  users_delete_me: { body: { password: variable('password') } },
  users_update_me: { body: { email: variable('email'), current_password: variable('password') } },
  accounts_request_password_reset: { body: { email: variable('email') } },
  auth_login: {
    form: { username: variable('email'), password: variable('password') },
    keep: { access_token: 'body.access_token', refresh_token: 'body.refresh_token' },
  },
  auth_refresh: {
    form: { grant_type: 'refresh_token', refresh_token: variable('refresh_token') },
    keep: { access_token: 'body.access_token', refresh_token: 'body.refresh_token' },
  },
  auth_sessions_list: { keep: { session_id: 'body.find((session) => session.current).id' } },
  auth_sessions_delete: { path: { id: variable('session_id') } },
  posts_create: { keep: { post_id: 'body.id' } },
  posts_get: { path: { id: variable('post_id') } },
  posts_replace: { path: { id: variable('post_id') } },
  posts_update: { path: { id: variable('post_id') } },
  posts_delete: { path: { id: variable('post_id') } },
  votes_vote: { body: { post_id: variable('post_id') } },
  comments_list: { path: { id: variable('post_id') } },
  comments_create: { path: { id: variable('post_id') }, keep: { comment_id: 'body.id' } },
  comments_get: { path: { id: variable('comment_id') } },
  comments_update: { path: { id: variable('comment_id') } },
  comments_delete: { path: { id: variable('comment_id') } },
};

/**
 * The walk-through, in the order a newcomer follows it. Each step is a route (with its
 * OPERATIONS entry) plus what this step sends, which answer it expects when the route has
 * several, and checks beyond the status and the documented fields, in both syntaxes.
 */
const WALKTHROUGH = [
  {
    name: 'register',
    title: 'Register with a new e-mail address',
    operationId: 'users_create',
    about: 'A new e-mail address on every run, and the password of the environment (or of the file).',
    body: { email: newEmail(), password: variable('password'), username: OMITTED },
    checks: {
      postman: ["pm.expect(body.email, 'email').to.eql(pm.environment.get('email'));"],
      http: [],
    },
  },
  {
    name: 'login',
    title: 'Log in',
    operationId: 'auth_login',
    about:
      'The OAuth2 password form (`username` is the e-mail) with the account above; its access token serves every later request.',
    form: { username: answer('register', 'email'), password: variable('password') },
    checks: {
      postman: ["pm.expect(body.token_type, 'token_type').to.eql('bearer');"],
      http: ['body token_type == bearer'],
    },
  },
  {
    name: 'activity',
    title: 'See the security activity of your account',
    operationId: 'users_activity',
    about: 'Newest first: the login above is there, with its address, user agent and session.',
    query: { limit: '5' },
    checks: {
      postman: ["pm.expect(body[0].type, 'the newest event').to.eql('login');"],
      http: ["js response.parsedBody[0].type == login"],
    },
  },
  {
    name: 'reset',
    title: 'Ask for a password-reset mail',
    operationId: 'accounts_request_password_reset',
    about:
      'What a user who forgot the password does: the same 202 whether an account uses the address or not; the mail (its link opens a page with a form for the new password) goes to the address, or, without SMTP_URL, to the log of the service.',
    body: { email: answer('register', 'email') },
    checks: {
      postman: ["pm.expect(body.message, 'message').to.include('mail');"],
      http: ['body message includes mail'],
    },
  },
  {
    name: 'post',
    title: 'Write a post',
    operationId: 'posts_create',
    about: 'A post by the new account.',
    checks: {
      postman: ["pm.expect(body.owner.email, 'owner.email').to.eql(pm.environment.get('email'));"],
      http: ['body votes == 0'],
    },
  },
  {
    name: 'comment',
    title: 'Comment on the post',
    operationId: 'comments_create',
    about: 'A comment on the post written above, by the same account; `Location` names it.',
    path: { id: answer('post', 'id') },
    checks: {
      postman: [
        "pm.expect(body.post_id, 'post_id').to.eql(Number(pm.environment.get('post_id')));",
        "pm.expect(pm.response.headers.get('Location'), 'Location').to.eql(`/comments/${body.id}`);",
      ],
      http: [
        'js response.parsedBody.post_id - post.id == 0',
        "js response.headers.location === '/comments/' + response.parsedBody.id == true",
      ],
    },
  },
  {
    name: 'vote',
    title: 'Vote for it',
    operationId: 'votes_vote',
    about: 'A vote for the post written above.',
    status: 201,
    body: { post_id: answer('post', 'id'), dir: 1 },
    checks: {
      postman: ["pm.expect(body.message, 'message').to.eql('Vote added');"],
      http: ['body message == Vote added'],
    },
  },
  {
    name: 'posts',
    title: 'List the posts',
    operationId: 'posts_list',
    about: 'The newest first; the post written above is there, with its vote.',
    query: { limit: '10' },
    checks: {
      postman: [
        "const written = body.find((post) => post.id === Number(pm.environment.get('post_id')));",
        "pm.expect(written, 'the post written above').to.be.an('object');",
        "pm.expect(written.votes, 'its votes').to.eql(1);",
      ],
      http: ['js response.parsedBody.find((listed) => listed.id === post.id).votes == 1'],
    },
  },
  {
    name: 'refresh',
    title: 'Refresh the tokens',
    operationId: 'auth_refresh',
    about: 'What to do when the access token expires: new tokens for the same session; the old refresh token is spent.',
    form: { grant_type: 'refresh_token', refresh_token: answer('login', 'refresh_token') },
    before: { postman: ["const previousRefreshToken = pm.environment.get('refresh_token');"] },
    checks: {
      postman: ["pm.expect(body.refresh_token, 'refresh_token').not.to.eql(previousRefreshToken);"],
      http: [],
    },
  },
  {
    name: 'logout',
    title: 'Log out',
    operationId: 'auth_logout',
    about: 'Ends the session: its access and refresh tokens stop working at once.',
  },
  {
    name: 'refused',
    title: 'The token of the ended session no longer works',
    operationId: 'users_me',
    about: 'The access token of the session that just ended is refused.',
    status: 401,
    keep: {},
    checks: {
      postman: [
        "pm.expect(pm.response.headers.get('WWW-Authenticate'), 'WWW-Authenticate').to.include('invalid_token');",
      ],
      http: ['header www-authenticate includes invalid_token'],
    },
  },
];

const WALKTHROUGH_FOLDER = 'walk-through';

// ---------------------------------------------------------------------------------------
// The document

const document = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8'));

/** Every operation by operationId: its method, path and the operation object. */
const operations = new Map();
for (const [path, item] of Object.entries(document.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (operation && typeof operation === 'object' && operation.operationId) {
      operations.set(operation.operationId, { method: method.toUpperCase(), path, operation });
    }
  }
}

function operationNamed(operationId) {
  const found = operations.get(operationId);
  if (!found) {
    throw new Error(`openapi.json has no operation "${operationId}" (scripts/build-clients.mjs names it)`);
  }
  return found;
}

for (const operationId of Object.keys(OPERATIONS)) {
  operationNamed(operationId);
}

/** Follows a local `$ref` (`#/components/...`). */
function dereference(schema) {
  let current = schema;
  while (current && current.$ref) {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
  }
  return current;
}

/** A schema with its references followed and a lone `allOf` merged in. */
function resolve(schema) {
  const resolved = dereference(schema) ?? {};
  if (!resolved.allOf) {
    return resolved;
  }
  const { allOf, ...rest } = resolved;
  return allOf.map(resolve).reduce(
    (merged, part) => ({
      ...merged,
      ...part,
      properties: { ...merged.properties, ...part.properties },
      required: [...(merged.required ?? []), ...(part.required ?? [])],
    }),
    { ...rest, properties: {}, required: [] },
  );
}

/** The JSON schema of one answer of an operation, or undefined when it has no JSON body. */
function answerSchema(operation, status) {
  const content = operation.responses?.[String(status)]?.content ?? {};
  const type = Object.keys(content).find((name) => /[/+]json$/.test(name));
  return type ? content[type].schema : undefined;
}

function successStatuses(operation) {
  return Object.keys(operation.responses ?? {})
    .map(Number)
    .filter((status) => status >= 200 && status < 300);
}

function isPublic(operation) {
  const security = operation.security ?? document.security ?? [];
  return security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0);
}

// ---------------------------------------------------------------------------------------
// Checks of an answer's fields and types, read from its schema

const JS_TYPES = { integer: 'number', number: 'number', string: 'string', boolean: 'boolean' };

/** Postman test lines asserting `expression` has the fields and types of `schema`. */
function postmanShapeChecks(expression, label, schema, depth = 0) {
  const resolved = resolve(schema);
  const type = resolved.type ?? (resolved.properties ? 'object' : undefined);
  const lines = [];
  const typeCheck = (article) => {
    const check = `pm.expect(${expression}, '${label}').to.be.${article}('${JS_TYPES[type] ?? type}');`;
    return resolved.nullable ? `if (${expression} !== null) ${check}` : check;
  };
  if (type === 'array') {
    lines.push(typeCheck('an'));
    if (depth < 3 && resolved.items) {
      const inner = postmanShapeChecks('item', `${label}[]`, resolved.items, depth + 1);
      if (inner.length > 0) {
        lines.push(`${expression}.forEach((item) => {`, ...inner.map((line) => `  ${line}`), '});');
      }
    }
  } else if (type === 'object') {
    lines.push(typeCheck('an'));
    if (depth < 3) {
      const inner = [];
      for (const [name, property] of Object.entries(resolved.properties ?? {})) {
        const fieldExpression = `${expression}.${name}`;
        const fieldLabel = depth === 0 && expression === 'body' ? name : `${label}.${name}`;
        const checks = postmanShapeChecks(fieldExpression, fieldLabel, property, depth + 1);
        if ((resolved.required ?? []).includes(name)) {
          inner.push(...checks);
        } else if (checks.length > 0) {
          inner.push(`if (${fieldExpression} !== undefined) {`, ...checks.map((line) => `  ${line}`), '}');
        }
      }
      lines.push(
        ...(resolved.nullable && inner.length > 0
          ? [`if (${expression} !== null) {`, ...inner.map((line) => `  ${line}`), '}']
          : inner),
      );
    }
  } else if (JS_TYPES[type]) {
    lines.push(typeCheck('a'));
    if (resolved.enum) {
      const check = `pm.expect(${expression}, '${label}').to.be.oneOf(${JSON.stringify(resolved.enum)});`;
      lines.push(resolved.nullable ? `if (${expression} !== null) ${check}` : check);
    }
  }
  return lines;
}

/** httpyac assertions (without `# ?? `) for the fields and types of an answer. */
function httpShapeChecks(schema) {
  const resolved = resolve(schema);
  if (resolved.type === 'array') {
    return ['js Array.isArray(response.parsedBody) == true'];
  }
  const checks = [];
  const visit = (object, prefix) => {
    for (const name of object.required ?? []) {
      const property = resolve(object.properties?.[name]);
      const type = property.type ?? (property.properties ? 'object' : undefined);
      if (property.nullable) {
        continue;
      } else if (type === 'object' && !prefix) {
        visit(property, `${name}.`);
      } else if (JS_TYPES[type]) {
        checks.push(`body ${prefix}${name} is${JS_TYPES[type][0].toUpperCase()}${JS_TYPES[type].slice(1)}`);
      }
    }
  };
  visit(resolved, '');
  return checks;
}

function fieldList(schema) {
  const resolved = resolve(schema);
  const object = resolved.type === 'array' ? resolve(resolved.items) : resolved;
  return Object.keys(object.properties ?? {}).join(', ');
}

const statusName = (status) => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

/** The test script of a request: its status, its fields and types, what it keeps, more checks. */
function testScript({ operation, statuses, keep, before = [], checks = [], afterSuccess = [] }) {
  const lines = [...before];
  const single = statuses.length === 1;
  lines.push(
    single
      ? `pm.test('answers ${statusName(statuses[0])}', () => pm.response.to.have.status(${statuses[0]}));`
      : `pm.test('answers ${statuses.map(statusName).join(' or ')}', () => pm.expect(pm.response.code).to.be.oneOf([${statuses.join(', ')}]));`,
  );
  const schemas = statuses.map((status) => answerSchema(operation, status));
  const distinct = [...new Set(schemas.map((schema) => JSON.stringify(schema ?? null)))];
  if (distinct.length === 1 && !schemas[0]) {
    lines.push(`pm.test('answers no body', () => pm.expect(pm.response.text()).to.eql(''));`);
  } else {
    for (const [index, status] of statuses.entries()) {
      const schema = schemas[index];
      if (!schema || (distinct.length === 1 && index > 0)) {
        continue;
      }
      const guard = distinct.length === 1 ? '' : `if (pm.response.code === ${status}) `;
      lines.push(
        `${guard}pm.test('answers the documented fields, each of its type: ${fieldList(schema)}', () => {`,
        '  const body = pm.response.json();',
        ...postmanShapeChecks('body', 'body', schema).map((line) => `  ${line}`),
        '});',
      );
    }
  }
  const kept = Object.entries(keep ?? {});
  if (kept.length > 0 || checks.length > 0 || afterSuccess.length > 0) {
    const condition = single
      ? `pm.response.code === ${statuses[0]}`
      : `[${statuses.join(', ')}].includes(pm.response.code)`;
    lines.push(`if (${condition}) {`);
    if (kept.length > 0 || checks.length > 0) {
      lines.push('  const body = pm.response.json();');
    }
    if (checks.length > 0) {
      lines.push(
        `  pm.test('answers what this step expects', () => {`,
        ...checks.map((line) => `    ${line}`),
        '  });',
      );
    }
    for (const [name, expression] of kept) {
      lines.push(`  pm.environment.set('${name}', ${expression});`);
    }
    lines.push(...afterSuccess.map((line) => `  ${line}`), '}');
  }
  return lines;
}

// ---------------------------------------------------------------------------------------
// Values in the two syntaxes

/** The Postman environment variable that holds `field` of `step`'s answer. */
function keptVariable(step, field) {
  const source = WALKTHROUGH.find((candidate) => candidate.name === step);
  const keep = source && (source.keep ?? OPERATIONS[source.operationId]?.keep ?? {});
  const entry = Object.entries(keep ?? {}).find(([, expression]) => expression === `body.${field}`);
  if (!entry) {
    throw new Error(`walk-through step "${step}" keeps no variable for its field "${field}"`);
  }
  return entry[0];
}

function postmanValue(value) {
  if (value && typeof value === 'object') {
    if (value.variable) return `{{${value.variable}}}`;
    if (value.answer) return `{{${keptVariable(value.answer, value.field)}}}`;
    if (value.newEmail) return '{{email}}';
  }
  return value;
}

function httpValue(value) {
  if (value && typeof value === 'object') {
    if (value.variable) return `{{${value.variable}}}`;
    if (value.answer) return `{{${value.answer}.response.body.${value.field}}}`;
    if (value.newEmail) return 'newcomer-{{$timestamp}}@example.com';
  }
  return value;
}

/**
 * A JSON body: the converter's example with `overrides` put in. A placeholder in place of
 * a number or a boolean of the example stays unquoted (`"post_id": {{post_id}}`).
 */
function jsonBody(example, overrides, render, indent) {
  const unquoted = new Map();
  const body = { ...example };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === OMITTED) {
      delete body[name];
      continue;
    }
    const rendered = render(value);
    if (
      typeof rendered === 'string' &&
      rendered.includes('{{') &&
      typeof example[name] !== 'string' &&
      name in example
    ) {
      const marker = `@@unquoted-${unquoted.size}@@`;
      unquoted.set(`"${marker}"`, rendered);
      body[name] = marker;
    } else {
      body[name] = rendered;
    }
  }
  let text = indent ? JSON.stringify(body, null, 2) : JSON.stringify(body).replace(/":/g, '": ').replace(/,"/g, ', "');
  for (const [marker, rendered] of unquoted) {
    text = text.replace(marker, rendered);
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Postman

/** A UUID-shaped id derived from where the thing sits, the same on every run. */
function stableId(...parts) {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function convert() {
  const result = await new Promise((resolvePromise, reject) => {
    Converter.convertV2(
      { type: 'json', data: structuredClone(document) },
      {
        folderStrategy: 'Tags',
        parametersResolution: 'Example',
        requestNameSource: 'Fallback',
        alwaysInheritAuthentication: true,
        includeAuthInfoInExample: false,
        enableOptionalParameters: false,
        indentCharacter: 'Space',
      },
      (error, converted) => (error ? reject(error) : resolvePromise(converted)),
    );
  });
  if (!result.result) {
    throw new Error(`openapi-to-postmanv2 could not convert openapi.json: ${result.reason}`);
  }
  return result.output[0].data;
}

/** `METHOD /path/{param}` of a converted request, to find it by operationId. */
function routeKey(request) {
  const path = request.url.path.map((segment) => segment.replace(/^:(.+)$/, '{$1}')).join('/');
  return `${request.method} /${path}`;
}

const script = (listen, exec) => ({ listen, script: { type: 'text/javascript', exec } });

/** Puts a route's values into a converted request: body, form, path variables, query, auth. */
function applyValues(request, operation, values) {
  if (values.body && request.body?.mode === 'raw') {
    request.body.raw = jsonBody(JSON.parse(request.body.raw), values.body, postmanValue, true);
  }
  if (values.form && request.body?.mode === 'urlencoded') {
    for (const [key, value] of Object.entries(values.form)) {
      const field = request.body.urlencoded.find((entry) => entry.key === key);
      if (!field) {
        throw new Error(`${routeKey(request)} has no form field "${key}"`);
      }
      field.value = postmanValue(value);
      field.disabled = false;
    }
  }
  for (const [key, value] of Object.entries(values.path ?? {})) {
    const pathVariable = request.url.variable.find((entry) => entry.key === key);
    if (!pathVariable) {
      throw new Error(`${routeKey(request)} has no path variable "${key}"`);
    }
    pathVariable.value = postmanValue(value);
  }
  for (const [key, value] of Object.entries(values.query ?? {})) {
    const parameter = request.url.query.find((entry) => entry.key === key);
    if (!parameter) {
      throw new Error(`${routeKey(request)} has no query parameter "${key}"`);
    }
    parameter.value = postmanValue(value);
    parameter.disabled = false;
  }
  if (isPublic(operation)) {
    request.auth = { type: 'noauth' };
  } else {
    delete request.auth; // the collection's Bearer {{access_token}}
  }
}

/** The converter's request of every operation, as it made it, by operationId. */
function convertedRequests(collection) {
  const byRoute = new Map(
    collection.item.flatMap((folder) => folder.item.map((item) => [routeKey(item.request), item])),
  );
  const examples = new Map();
  for (const [operationId, { method, path }] of operations) {
    const item = byRoute.get(`${method} ${path}`);
    if (!item) {
      throw new Error(`openapi-to-postmanv2 made no request for ${operationId} (${method} ${path})`);
    }
    examples.set(operationId, structuredClone(item));
  }
  return examples;
}

async function buildPostman(collection, examples) {
  const convertedItem = (operationId) => examples.get(operationId);

  const walkthrough = WALKTHROUGH.map((step, index) => {
    const { operation } = operationNamed(step.operationId);
    const item = structuredClone(convertedItem(step.operationId));
    const values = { ...OPERATIONS[step.operationId], ...step };
    applyValues(item.request, operation, values);
    const name = `${index + 1}. ${step.title}`;
    const kept = Object.keys(step.keep ?? OPERATIONS[step.operationId]?.keep ?? {});
    const keeps =
      kept.length > 0
        ? ` Its test script keeps ${kept.map((name) => `\`${name}\``).join(', ')} in the environment.`
        : '';
    const description = `${step.about}${keeps}\n\n${item.request.description?.content ?? ''}`.trim();
    const prerequest =
      step.body && Object.values(step.body).some((value) => value?.newEmail)
        ? [
            script('prerequest', [
              '// A new address on every run; the register step keeps it in `email`, the login uses it.',
              "pm.environment.set('email', `newcomer-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);",
            ]),
          ]
        : [];
    const statuses = step.status ? [step.status] : successStatuses(operation);
    if (statuses.length !== 1) {
      throw new Error(
        `walk-through step "${step.name}": ${step.operationId} has several answers; say which with status`,
      );
    }
    return {
      id: stableId(WALKTHROUGH_FOLDER, name),
      name,
      event: [
        ...prerequest,
        script(
          'test',
          testScript({
            operation,
            statuses,
            keep: step.keep ?? OPERATIONS[step.operationId]?.keep,
            before: step.before?.postman,
            checks: step.checks?.postman,
          }),
        ),
      ],
      request: { ...item.request, name, description: { content: description, type: 'text/plain' } },
      protocolProfileBehavior: item.protocolProfileBehavior,
    };
  });

  for (const folder of collection.item) {
    for (const item of folder.item) {
      const [operationId, entry] = [...operations].find(
        ([, candidate]) => `${candidate.method} ${candidate.path}` === routeKey(item.request),
      );
      const values = OPERATIONS[operationId] ?? {};
      applyValues(item.request, entry.operation, values);
      item.event = [
        script(
          'test',
          testScript({
            operation: entry.operation,
            statuses: successStatuses(entry.operation),
            keep: values.keep,
            afterSuccess: values.afterSuccess,
          }),
        ),
      ];
      item.id = stableId(folder.name, item.name);
      for (const [index, example] of (item.response ?? []).entries()) {
        example.id = stableId(folder.name, item.name, String(index), example.name);
      }
    }
  }

  const { info } = collection;
  return {
    info: {
      _postman_id: stableId('collection', info.name),
      name: info.name,
      description: {
        content:
          `${info.description?.content ?? ''}\n\n**This collection.** Select the environment "${info.name} (local)". ` +
          `Run the folder "${WALKTHROUGH_FOLDER}" for the whole tour, or send "Log in" (in "auth"): it keeps ` +
          '`access_token` and `refresh_token` in the environment, and every other request sends the access token ' +
          '(Authorization of the collection: Bearer `{{access_token}}`). Generated from openapi.json by `npm run clients`.',
        type: 'text/markdown',
      },
      schema: info.schema,
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{access_token}}', type: 'string' }] },
    item: [
      {
        name: WALKTHROUGH_FOLDER,
        description:
          'The tour a newcomer takes, in order: register, log in, write a post, vote for it, list the posts, refresh the tokens, log out, and see the old token refused. Run the folder, or send the requests one by one.',
        item: walkthrough,
      },
      ...collection.item,
    ],
  };
}

function buildEnvironment(collection) {
  const name = `${collection.info.name} (local)`;
  const defaults = {
    baseUrl: DEFAULT_BASE_URL,
    access_token: '',
    refresh_token: '',
    email: DEFAULT_EMAIL,
    password: DEFAULT_PASSWORD,
  };
  const kept = [...Object.values(OPERATIONS), ...WALKTHROUGH].flatMap((entry) => Object.keys(entry.keep ?? {}));
  const names = [...new Set([...Object.keys(defaults), ...kept])];
  const secrets = new Set(['access_token', 'refresh_token', 'password']);
  return {
    id: stableId('environment', name),
    name,
    values: names.map((key) => ({
      key,
      value: defaults[key] ?? '',
      type: secrets.has(key) ? 'secret' : 'default',
      enabled: true,
    })),
    _postman_variable_scope: 'environment',
  };
}

// ---------------------------------------------------------------------------------------
// The .http file

function buildHttp(examples) {
  const lines = [
    '# The Posts API walk-through: register, log in, write a post, vote for it, list the posts,',
    '# refresh the tokens, log out, and see the old token refused. Send the requests in order',
    '# ("Send Request" above each one), or all of them at once. Each answer is kept by its @name',
    '# and read by the requests below it: {{login.response.body.access_token}} is the access',
    '# token of the "login" answer. Every run registers a new address, so it runs again and again.',
    '#',
    '# The "# ?? ..." comments say what each answer must be: `npm test` runs this file with httpyac',
    '# (test/clients.e2e-spec.ts), which checks them (httpyac.config.js, next to this file).',
    '# Generated from openapi.json by `npm run clients` (scripts/build-clients.mjs).',
    '',
    `@baseUrl = ${DEFAULT_BASE_URL}`,
    `@password = ${DEFAULT_PASSWORD}`,
  ];
  const tokenSource = (index) =>
    WALKTHROUGH.slice(0, index)
      .reverse()
      .find((step) => (step.keep ?? OPERATIONS[step.operationId]?.keep ?? {}).access_token);

  for (const [index, step] of WALKTHROUGH.entries()) {
    const { method, path, operation } = operationNamed(step.operationId);
    const values = { ...OPERATIONS[step.operationId], ...step };
    const statuses = step.status ? [step.status] : successStatuses(operation);
    const schema = answerSchema(operation, statuses[0]);
    const assertions = [
      `status == ${statuses[0]}`,
      ...(schema ? httpShapeChecks(schema) : []),
      ...(step.checks?.http ?? []),
    ];
    lines.push('', `### ${index + 1}. ${step.title}`, `# ${step.about}`, `# @name ${step.name}`);
    lines.push(...[...new Set(assertions)].map((assertion) => `# ?? ${assertion}`));

    let url = `{{baseUrl}}${path.replace(/\{([^}]+)\}/g, (_, name) => httpValue(values.path?.[name]) ?? `{${name}}`)}`;
    const query = Object.entries(values.query ?? {}).map(([key, value]) => `${key}=${httpValue(value)}`);
    if (query.length > 0) {
      url += `?${query.join('&')}`;
    }
    lines.push(`${method} ${url}`);
    if (!isPublic(operation)) {
      const source = tokenSource(index);
      if (!source) {
        throw new Error(`walk-through step "${step.name}" needs a token, but no step before it keeps one`);
      }
      lines.push(`Authorization: Bearer {{${source.name}.response.body.access_token}}`);
    }
    const { body } = examples.get(step.operationId).request;
    if (body?.mode === 'urlencoded') {
      const form = new Map(body.urlencoded.filter((entry) => !entry.disabled).map((entry) => [entry.key, entry.value]));
      for (const [key, value] of Object.entries(values.form ?? {})) {
        form.set(key, httpValue(value));
      }
      const fields = [...form].map(([key, value]) => `${key}=${value}`);
      lines.push('Content-Type: application/x-www-form-urlencoded', '', fields.join('&'));
    } else if (body?.mode === 'raw') {
      lines.push('Content-Type: application/json', '', jsonBody(JSON.parse(body.raw), values.body, httpValue, false));
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------

async function generate() {
  const converted = await convert();
  const examples = convertedRequests(converted);
  const collection = await buildPostman(converted, examples);
  return {
    [COLLECTION_FILE]: `${JSON.stringify(collection, null, 2)}\n`,
    [ENVIRONMENT_FILE]: `${JSON.stringify(buildEnvironment(collection), null, 2)}\n`,
    [HTTP_FILE]: buildHttp(examples),
  };
}

/** Prints at most a screenful of `diff -u` between the committed file and `text`. */
function printDiffWith(file, text) {
  const work = mkdtempSync(join(tmpdir(), 'clients-check-'));
  try {
    const generated = join(work, 'generated');
    writeFileSync(generated, text);
    printDiff(file, join(root, file), generated);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const files = await generate();
if (process.argv.includes('--check')) {
  const stale = [];
  for (const [file, text] of Object.entries(files)) {
    const committed = join(root, file);
    if (!existsSync(committed)) {
      console.error(`\n${file} is missing.`);
      stale.push(file);
    } else if (readFileSync(committed, 'utf8') !== text) {
      console.error(`\n${file} differs from what openapi.json generates:`);
      printDiffWith(file, text);
      stale.push(file);
    }
  }
  if (stale.length > 0) {
    console.error(
      `\nThe API clients are out of date (${stale.join(', ')}). Run \`npm run clients\`, look at the diff, ` +
        'and commit clients/ with the change to openapi.json that caused it.',
    );
    process.exitCode = 1;
  } else {
    console.log(`${Object.keys(files).join(', ')} match openapi.json.`);
  }
} else {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
    console.log(`wrote ${file}`);
  }
}
