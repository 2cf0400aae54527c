import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader, type HeaderObject } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem';
import { IDEMPOTENCY_KEY_HEADER, IdempotencyInterceptor, IDEMPOTENT_REPLAYED_HEADER } from './idempotency.interceptor';
import { KEY_IN_PROGRESS } from './idempotency.service';

/** The header of an answer given again, for the success responses of an `@Idempotent()` route. */
export const IDEMPOTENT_REPLAYED: Record<string, HeaderObject> = {
  [IDEMPOTENT_REPLAYED_HEADER]: {
    description: '`true` when this is the answer of an earlier request with the same `Idempotency-Key`, sent again.',
    schema: { type: 'string', enum: ['true'], maxLength: 4, example: 'true' },
  },
};

/**
 * A route carried out at most once per user and `Idempotency-Key` within 24 hours: the
 * interceptor, the optional request header and the 409 of a retry while the first request
 * runs in the document (`conflict`: the example of a route that has a 409 of its own). The route lists its own 422 (a malformed key, or a key reused for
 * another request, answers it too).
 */
export function Idempotent({ conflict = KEY_IN_PROGRESS }: { conflict?: string } = {}) {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description:
        'Makes a retry safe: the request is carried out at most once per user and key within 24 hours. A retry ' +
        'with the same key and body gets the first answer again (with `Idempotent-Replayed: true`); the same key ' +
        'with another body answers 422, a retry while the first request runs 409.',
      schema: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        pattern: '^[\\x20-\\x7E]{1,255}$',
        example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
      },
    }),
    ApiProblemResponses({ status: 409, detail: conflict, retryAfter: 1 }),
  );
}
