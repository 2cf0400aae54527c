/** `%`, `_` and `\` match themselves in a search, not as LIKE wildcards (use with `ESCAPE '\'`). */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
