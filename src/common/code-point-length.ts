import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

/** Length in Unicode code points: what PostgreSQL counts for `varchar(n)`. */
export function codePointLength(text: string): number {
  // Iterating a string yields code points, not UTF-16 units.
  return Array.from(text).length;
}

/**
 * A string of `min` to `max` code points. class-validator's Length counts neither
 * surrogate pairs nor variation selectors, so a title it accepts could overflow the
 * column and end as a 500.
 */
export function CodePointLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'codePointLength',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [min, max],
      options,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') {
            return false;
          }
          const length = codePointLength(value);
          return length >= min && length <= max;
        },
        defaultMessage: ({ property }: ValidationArguments) => `${property} must be ${min} to ${max} characters`,
      },
    });
}
