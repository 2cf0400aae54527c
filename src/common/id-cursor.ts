import { ValidationProblemException } from './problem';

/**
 * The cursor of a list ordered by id (newest first, or oldest first as a post's comments):
 * the id of the last row of a page, opaque to clients (base64url), so that its form can
 * change without breaking them.
 */
export function encodeIdCursor(id: number | string): string {
  return Buffer.from(`i${id}`, 'utf8').toString('base64url');
}

/** The largest id of an `integer` column and of a `bigint` one. */
export const INTEGER_ID_MAX = 2_147_483_647n;
export const BIGINT_ID_MAX = 9_223_372_036_854_775_807n;

/** A cursor from a `Link` header, for ids up to `max`; anything else is a 422 naming `cursor`. */
export function decodeIdCursor(text: string, max: bigint): string {
  const match = /^i([1-9][0-9]{0,18})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match || BigInt(match[1]) > max) {
    throw new ValidationProblemException([
      { field: 'cursor', message: 'cursor is not one this service issued; follow the URL of the Link header' },
    ]);
  }
  return match[1];
}

/** The `Link` header of the next page: the path with the same query, continued from the cursor. */
export function nextPageLink(path: string, query: Record<string, string | number | undefined>, cursor: string): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '' && name !== 'cursor') {
      parameters.set(name, String(value));
    }
  }
  parameters.set('cursor', cursor);
  return `<${path}?${parameters.toString()}>; rel="next"`;
}

/** The OpenAPI description of that header. */
export function linkHeader(example: string) {
  return {
    Link: {
      description: 'The next page, as `<url>; rel="next"`, when there is one.',
      schema: { type: 'string', pattern: '^<[^>]+>; rel="next"$', maxLength: 4096, example },
    },
  };
}
