import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { createOpenApiDocument } from './openapi-document';
import { serveRedoc } from './redoc';

export const OPENAPI_JSON_PATH = '/openapi.json';

/** `/docs` (Swagger UI), `/redoc`, `/openapi.json` and `/openapi.yaml`, all from one document. */
export function setUpDocs(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'Posts API docs',
    swaggerOptions: {
      // "Authorize" keeps the token in the browser's localStorage, so a reload keeps the login.
      persistAuthorization: true,
    },
  });
  serveRedoc(app, OPENAPI_JSON_PATH);
}
