import { applyDecorators } from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';
import { ParseIdPipe } from '../../common/validation.pipe';

/** 3 to 30 ASCII letters, digits and `_`, starting with a letter (any case; stored lower-case). */
export const USERNAME_PATTERN = /^[a-z][a-z0-9_]{2,29}$/;
/** The same in any case, as a client may send it. */
export const USERNAME_ANY_CASE = /^[A-Za-z][A-Za-z0-9_]{2,29}$/;
export const USERNAME_RULE = '3 to 30 ASCII letters, digits and _, starting with a letter';

/** The OpenAPI description of a username field. */
export const USERNAME_PROPERTY: ApiPropertyOptions = {
  description: `The handle: ${USERNAME_RULE}; stored lower-case and unique, case-insensitively.`,
  example: 'alice',
  pattern: '^[A-Za-z][A-Za-z0-9_]{2,29}$',
  minLength: 3,
  maxLength: 30,
};

/** A username in a request body: checked, then lower-cased. */
export function IsUsername(options: { required: boolean }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ ...USERNAME_PROPERTY, required: options.required } as ApiPropertyOptions),
    // Lower-cased only when it is ASCII already: toLowerCase() would turn a Kelvin sign into "k".
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && USERNAME_ANY_CASE.test(value) ? value.toLowerCase() : value,
    ),
    IsString({ message: 'username must be a string' }),
    Matches(USERNAME_PATTERN, { message: `username must be ${USERNAME_RULE}` }),
  );
}

/**
 * What a path segment `{id or username}` names: digits only are an id (422 when out of
 * range), a possible username is a username (lower-cased), anything else nobody
 * (undefined: no user can have it, and PostgreSQL refuses some characters, such as NUL).
 */
export function userReference(segment: string): { id: number } | { username: string } | undefined {
  if (/^[0-9]+$/.test(segment)) {
    return { id: new ParseIdPipe().transform(segment, { type: 'param', data: 'id' }) };
  }
  return USERNAME_ANY_CASE.test(segment) ? { username: segment.toLowerCase() } : undefined;
}
