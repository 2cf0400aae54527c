import { ValidateIf } from 'class-validator';

/**
 * A field that may be left out, but is never `null`: class-validator's IsOptional
 * lets `null` through, which would reach the NOT NULL columns as a 500.
 */
export const IsOmittable = () => ValidateIf((_object, value) => value !== undefined);

/** Query strings are text: digits become a number, anything else stays as sent and fails IsInt. */
export const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^[0-9]{1,16}$/.test(value) ? Number(value) : value;
