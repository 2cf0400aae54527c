import { PreconditionFailedException } from '@nestjs/common';
import { MAX_ID } from '../common/validation.pipe';
import type { VersionCondition } from './posts.queries';

/** The longest If-Match header documented (a list of a few dozen ETags). */
export const IF_MATCH_MAX_LENGTH = 1024;

/** A post's strong ETag: its version in quotes. */
export function postETag(version: number): string {
  return `"${version}"`;
}

const STRONG_VERSION_TAG = /^"([1-9][0-9]{0,9})"$/;

/**
 * The versions an If-Match header (RFC 9110 §13.1.1) accepts: `null` when there is no
 * header or it is `*` (any existing post), else those of its strong ETags. Weak ETags
 * (`W/"3"`) never match under the strong comparison If-Match uses, and anything that is
 * not one of our ETags matches nothing: both leave the list empty, and the write answers
 * 412.
 */
export function versionsOfIfMatch(header: string | string[] | undefined): VersionCondition {
  if (header === undefined) {
    return null;
  }
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') {
    return null;
  }
  if (value.length > IF_MATCH_MAX_LENGTH) {
    return [];
  }
  return value
    .split(',')
    .map((tag) => STRONG_VERSION_TAG.exec(tag.trim())?.[1])
    .filter((digits): digits is string => digits !== undefined && Number(digits) <= MAX_ID)
    .map(Number);
}

/** The 412 of a write whose If-Match does not name the post's current ETag (src/common/api-problem.ts shows it). */
export function staleETag(id: number): PreconditionFailedException {
  return new PreconditionFailedException(
    `Post ${id} has changed since the ETag you sent in If-Match (or that is not one of its ETags): ` +
      `GET /posts/${id} again and retry with the ETag it answers.`,
  );
}
