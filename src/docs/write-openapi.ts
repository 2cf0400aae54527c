/**
 * `npm run openapi`: writes the OpenAPI document to `openapi.json` (or the path given),
 * without a database. `node dist/src/docs/write-openapi.js [path]`.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createOpenApiDocumentOffline, serializeOpenApiDocument } from './openapi-document';

async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'openapi.json');
  const document = await createOpenApiDocumentOffline();
  writeFileSync(target, serializeOpenApiDocument(document));
  console.log(`Wrote ${target} (${Object.keys(document.paths).length} paths)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
