import { ValidationProblemException } from '../common/problem';
import { MAX_ID } from '../common/validation.pipe';
import type { PostOrder } from './posts.queries';

/**
 * Where a page of the list ends: the `created_at` (in microseconds) and `id` of its last
 * post and, in the `top` order, its vote count: the key of the order, so that the next
 * page starts right after it in the same order.
 */
export interface PostCursor {
  votes?: number;
  createdAtMicros: string;
  id: number;
}

/** `<us>.<id>` for the newest-first order, `top.<votes>.<us>.<id>` for the `top` order. */
export function encodePostCursor(order: PostOrder, cursor: PostCursor): string {
  const key = `${cursor.createdAtMicros}.${cursor.id}`;
  return Buffer.from(order === 'top' ? `top.${cursor.votes ?? 0}.${key}` : key, 'utf8').toString('base64url');
}

const CURSOR = /^(?:top\.([0-9]{1,10})\.)?(-?[0-9]{1,17})\.([1-9][0-9]{0,9})$/;

/**
 * A cursor from a `Link` header of a list in `order`; anything else (including a cursor
 * of the other order, which would skip or repeat posts) is a 422 naming `cursor`.
 */
export function decodePostCursor(order: PostOrder, text: string): PostCursor {
  const match = CURSOR.exec(Buffer.from(text, 'base64url').toString('utf8'));
  const ofTop = match?.[1] !== undefined;
  if (!match || Number(match[3]) > MAX_ID || (match[1] !== undefined && Number(match[1]) > MAX_ID)) {
    throw invalidCursor('cursor is not one this service issued; follow the URL of the Link header');
  }
  if (ofTop !== (order === 'top')) {
    throw invalidCursor(
      `this cursor continues a list in the ${ofTop ? 'top' : 'new'} order; keep the sort of the Link URL it came from`,
    );
  }
  return { votes: ofTop ? Number(match[1]) : undefined, createdAtMicros: match[2], id: Number(match[3]) };
}

function invalidCursor(message: string): ValidationProblemException {
  return new ValidationProblemException([{ field: 'cursor', message }]);
}
