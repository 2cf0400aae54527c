import { execFileSync } from 'node:child_process';

/**
 * Prints at most `limit` lines of `diff -u committed generated`, the committed file
 * labelled `label`: what `openapi:check` and `clients:check` show when a file is stale.
 */
export function printDiff(label, committed, generated, limit = 80) {
  try {
    execFileSync('diff', ['-u', '--label', `${label} (committed)`, '--label', 'generated', committed, generated], {
      encoding: 'utf8',
    });
  } catch (error) {
    const lines = String(error.stdout ?? '').split('\n');
    console.error(lines.slice(0, limit).join('\n'));
    if (lines.length > limit) {
      console.error(`... (${lines.length - limit} more lines)`);
    }
  }
}
