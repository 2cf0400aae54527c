import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ValidationProblemException } from './problem';

/** The largest id a PostgreSQL `integer` column holds. */
export const MAX_ID = 2_147_483_647;

// A value of the wrong type fails every rule of its field: the type is the one to name.
const TYPE_CONSTRAINTS = ['whitelistValidation', 'isString', 'isInt', 'isBoolean', 'isIn'];

/** One message per field: the wrong type if that is the problem, else the first rule broken. */
function firstMessage(constraints: Record<string, string>, field: string): string | undefined {
  const name = TYPE_CONSTRAINTS.find((constraint) => constraint in constraints) ?? Object.keys(constraints)[0];
  if (name === 'whitelistValidation') {
    return `${field} is not a field of this request; remove it`;
  }
  return name === undefined ? undefined : constraints[name];
}

function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.value === undefined && error.constraints) {
      return [{ field, message: `${field} is required` }];
    }
    const own = firstMessage(error.constraints ?? {}, field);
    return [...(own ? [{ field, message: own }] : []), ...toFieldErrors(error.children ?? [], field)];
  });
}

function nulCharacterErrors(value: Record<string, unknown>): FieldError[] {
  return Object.entries(value)
    .filter(([, field]) => typeof field === 'string' && field.includes('\u0000'))
    .map(([field]) => ({ field, message: `${field} must not contain the NUL character (\\u0000)` }));
}

/**
 * The global pipe: class-validator DTOs, unknown fields refused, every failure a 422
 * problem with one entry per bad field. A body that is not a JSON object (an array, a
 * string, nothing at all) is refused before class-validator sees it.
 */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      errorHttpStatusCode: 422,
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => new ValidationProblemException(toFieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param') {
      // Path parameters are parsed by their own pipes (ParseIdPipe): a global number
      // conversion first would turn "1e3" into 1000.
      return value;
    }
    const isDto = metadata.metatype !== undefined && this.toValidate(metadata);
    if (isDto && (metadata.type === 'body' || metadata.type === 'query')) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ValidationProblemException([
          { field: metadata.type, message: `the ${metadata.type} must be a JSON object with the documented fields` },
        ]);
      }
      const nulErrors = nulCharacterErrors(value as Record<string, unknown>);
      if (nulErrors.length > 0) {
        throw new ValidationProblemException(nulErrors);
      }
    }
    return super.transform(value, metadata);
  }
}

/** A path id: a positive integer that fits the id column, else 422. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    const field = metadata.data ?? 'id';
    const id = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(id) || id < 1 || id > MAX_ID) {
      throw new ValidationProblemException([
        { field, message: `${field} must be a positive integer no larger than ${MAX_ID}` },
      ]);
    }
    return id;
  }
}
