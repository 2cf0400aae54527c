import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * Invisible characters (controls, format characters such as U+200B, U+00AD and U+FEFF,
 * the bidirectional controls such as U+202E), white space, private-use and unassigned
 * code points: none belongs in an identifier a person reads and trusts.
 */
const HIDDEN_OR_DECEPTIVE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Z}]/u;

/**
 * Whether an identifier could pass for another one: it holds a hidden character, or a
 * compatibility form that Unicode folds into another text (full-width letters such as
 * "ａ", ligatures, superscripts), which NFKC normalization reveals.
 */
export function hasLookalikeCharacters(text: string): boolean {
  return HIDDEN_OR_DECEPTIVE.test(text) || text.normalize('NFKC') !== text;
}

/** An identifier (e-mail, username) without invisible, bidirectional-control or full-width characters. */
export function NoLookalikeCharacters(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'noLookalikeCharacters',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !hasLookalikeCharacters(value),
        defaultMessage: ({ property }: ValidationArguments) =>
          `${property} must not contain invisible, bidirectional-control or full-width characters; type it in plain characters`,
      },
    });
}
