// The "Cost as the data grows" section: bench/scale.mjs writes it to bench/SCALE.md and
// splices it into RESULTS.md between two markers; bench/run.mjs, which rewrites
// RESULTS.md from scratch, appends it again from SCALE.md. So RESULTS.md always shows
// the latest of both runs, whichever ran last, and neither overwrites the other.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const BEGIN = '<!-- scale:begin: written by bench/scale.mjs, kept in bench/SCALE.md -->';
const END = '<!-- scale:end -->';

/** `markdown` without any old copy of the section, plus `section` (when given) at the end. */
export function withScaleSection(markdown, section) {
  const start = markdown.indexOf(BEGIN);
  const stop = markdown.indexOf(END);
  let rest = markdown;
  if (start !== -1 && stop > start) {
    rest = markdown.slice(0, start) + markdown.slice(stop + END.length);
  }
  rest = `${rest.trimEnd()}\n`;
  return section ? `${rest}\n${BEGIN}\n\n${section.trim()}\n\n${END}\n` : rest;
}

/** The section as the last scale run wrote it to `dir`/SCALE.md, or undefined. */
export async function readScaleSection(dir) {
  try {
    return await readFile(join(dir, 'SCALE.md'), 'utf8');
  } catch {
    return undefined;
  }
}
