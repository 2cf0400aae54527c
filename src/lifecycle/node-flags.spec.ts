import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The V8 flags of production (the young generation capped at 4 MB a semi-space, the old
 * generation at 256 MB, which also makes V8 grow it by a smaller factor) are written where the
 * app is started: `npm run start:prod`, the Dockerfile, the fault tests' processes and the
 * benchmark's app. They must not drift apart.
 */
const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=256'];

describe('the node flags of production', () => {
  it('are the flags of npm run start:prod', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:prod']).toBe(`node ${FLAGS.join(' ')} dist/src/main.js`);
  });

  it.each([
    ['Dockerfile', `CMD ["node", ${FLAGS.map((flag) => `"${flag}"`).join(', ')}, "dist/src/main.js"]`],
    ['test/faults/support/app-process.ts', `const NODE_ARGUMENTS = [${FLAGS.map((flag) => `'${flag}'`).join(', ')}];`],
    ['bench/lib/options.mjs', `export const START_PROD_NODE_ARGS = [${FLAGS.map((flag) => `'${flag}'`).join(', ')}];`],
    ['README.md', `\`node ${FLAGS.join(' ')} dist/src/main.js\``],
  ])('are the flags of %s', (file, line) => {
    expect(read(file)).toContain(line);
  });
});
