import { ValidationProblemException } from '../common/problem';
import { MAX_ID } from '../common/validation.pipe';

/** Where a page of the list ends: the `created_at` (in microseconds) and `id` of its last post. */
export interface PostCursor {
  createdAtMicros: string;
  id: number;
}

export function encodePostCursor(cursor: PostCursor): string {
  return Buffer.from(`${cursor.createdAtMicros}.${cursor.id}`, 'utf8').toString('base64url');
}

/** A cursor from a `Link` header; anything else is a 422 naming `cursor`. */
export function decodePostCursor(text: string): PostCursor {
  const match = /^(-?[0-9]{1,17})\.([1-9][0-9]{0,9})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match || Number(match[2]) > MAX_ID) {
    throw new ValidationProblemException([
      { field: 'cursor', message: 'cursor is not one this service issued; follow the URL of the Link header' },
    ]);
  }
  return { createdAtMicros: match[1], id: Number(match[2]) };
}
