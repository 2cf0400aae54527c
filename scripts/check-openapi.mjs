// `npm run openapi:check` (after `nest build`): fails when the committed openapi.json or
// client/schema.d.ts differ from what the code generates now. Writes nothing in the project.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printDiff } from './print-diff.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const generator = join(root, 'node_modules', '.bin', 'openapi-typescript');
const work = mkdtempSync(join(tmpdir(), 'openapi-check-'));

try {
  const generated = {
    'openapi.json': join(work, 'openapi.json'),
    'client/schema.d.ts': join(work, 'schema.d.ts'),
  };
  execFileSync(process.execPath, [join(root, 'dist/src/docs/write-openapi.js'), generated['openapi.json']], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync(generator, [generated['openapi.json'], '--output', generated['client/schema.d.ts']], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const stale = [];
  for (const [file, fresh] of Object.entries(generated)) {
    const committed = join(root, file);
    if (!existsSync(committed)) {
      console.error(`\n${file} is missing.`);
      stale.push(file);
    } else if (readFileSync(committed, 'utf8') !== readFileSync(fresh, 'utf8')) {
      console.error(`\n${file} differs from what the code generates:`);
      printDiff(file, committed, fresh);
      stale.push(file);
    }
  }
  if (stale.length > 0) {
    console.error(
      `\nThe API documentation is out of date (${stale.join(', ')}). Run \`npm run openapi\`, ` +
        'look at the diff, and commit openapi.json and client/schema.d.ts with the change that caused it.',
    );
    process.exitCode = 1;
  } else {
    console.log('openapi.json and client/schema.d.ts match the code.');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
