import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';

export const REDOC_PATH = '/redoc';
const BUNDLE_PATH = `${REDOC_PATH}/redoc.standalone.js`;

/**
 * Nothing but this origin: the bundle shows a logo from Redocly's CDN in its menu, which
 * this keeps from loading (the menu hides a logo that fails). Redoc's styles are inline,
 * and its search runs in a worker made from a blob.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

function redocPage(documentUrl: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Posts API reference</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <noscript>This page needs JavaScript. The OpenAPI document is at <a href="${documentUrl}">${documentUrl}</a>; try it out at <a href="/docs">/docs</a>.</noscript>
    <redoc spec-url="${documentUrl}" expand-responses="200,201" required-props-first="true"></redoc>
    <script src="${BUNDLE_PATH}"></script>
  </body>
</html>
`;
}

let bundle: Buffer | undefined;

/** The standalone bundle of the installed `redoc` package, read on first use. */
function redocBundle(): Buffer {
  bundle ??= readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'));
  return bundle;
}

/**
 * `GET /redoc`: the OpenAPI document rendered by ReDoc, from the locally installed bundle
 * (no CDN). Registered on Fastify itself, like Swagger UI's /docs, so it is open to all.
 */
export function serveRedoc(app: NestFastifyApplication, documentUrl: string): void {
  const fastify = app.getHttpAdapter().getInstance();
  const page = redocPage(documentUrl);
  fastify.get(REDOC_PATH, (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .header('X-Content-Type-Options', 'nosniff')
      .send(page),
  );
  fastify.get(BUNDLE_PATH, (_request, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('Cache-Control', 'public, max-age=3600')
      .header('X-Content-Type-Options', 'nosniff')
      .send(redocBundle()),
  );
}
