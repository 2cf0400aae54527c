/*
 * The routes under test, read from the running app's OpenAPI document (/openapi.json), plus
 * the docs pages served beside them.
 */

/** A list written as words separated by white space. */
export const words = (text: string) => text.trim().split(/\s+/);

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'TRACE' | 'PROPFIND' | 'SEARCH';
export const DOCUMENTED_METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const ANY_METHOD: Method[] = [...DOCUMENTED_METHODS, 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];
export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

export interface PropertySchema {
  type?: string;
  enum?: unknown[];
  example?: unknown;
  minimum?: number;
}

export interface SchemaObject {
  $ref?: string;
  properties?: Record<string, PropertySchema>;
}

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { schema?: SchemaObject }> };
      }
    >
  >;
  components: { schemas: Record<string, SchemaObject> };
}

export interface Operation {
  method: Method;
  /** As the document writes it: `/posts/{id}`. */
  template: string;
  secured: boolean;
  bodyFields: Record<string, PropertySchema>;
  bodyTypes: string[];
  queryNames: string[];
}

/** Served beside the API but not described by the document; a 2xx there is HTML, JS, JSON or YAML. */
export const DOCS_PAGES = ['/docs', '/redoc', '/openapi.json', '/openapi.yaml'];

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = operation.requestBody?.content ?? {};
      const schema = Object.values(content)[0]?.schema;
      const resolved = schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop() as string] : schema;
      operations.push({
        method: method.toUpperCase() as Method,
        template,
        secured: (operation.security ?? []).length > 0,
        bodyFields: resolved?.properties ?? {},
        bodyTypes: Object.keys(content),
        queryNames: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  const docsPages = DOCS_PAGES.map((template): Operation => ({
    method: 'GET',
    template,
    secured: false,
    bodyFields: {},
    bodyTypes: [],
    queryNames: [],
  }));
  return [...operations, ...docsPages];
}

export const keyOf = (operation: Operation) => `${operation.method} ${operation.template}`;
