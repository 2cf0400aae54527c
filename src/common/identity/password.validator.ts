import { compare } from 'bcrypt';
import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

export const PASSWORD_MIN_BYTES = 8;
/** bcrypt reads only the first 72 bytes: a longer password is refused, never silently cut. */
export const PASSWORD_MAX_BYTES = 72;

export function passwordByteLength(password: string): number {
  return Buffer.byteLength(password, 'utf8');
}

/** A string of 8 to 72 bytes of UTF-8 (bytes, not characters). */
export function IsPassword(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isPassword',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          passwordByteLength(value) >= PASSWORD_MIN_BYTES &&
          passwordByteLength(value) <= PASSWORD_MAX_BYTES,
        defaultMessage: ({ property, value }: ValidationArguments) =>
          typeof value !== 'string'
            ? `${property} must be a string`
            : `${property} must be ${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes of UTF-8 (it is ${passwordByteLength(value)} bytes)`,
      },
    });
}

/**
 * Whether a password matches a bcrypt hash. bcrypt ignores bytes past 72, so a longer
 * password never matches (it would match its own first 72 bytes).
 */
export async function passwordMatches(password: string, passwordHash: string): Promise<boolean> {
  const matches = await compare(password, passwordHash);
  return matches && passwordByteLength(password) <= PASSWORD_MAX_BYTES;
}
