import { HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';
import { ProblemException } from '../common/problem';

/** No route takes a body nested deeper than 2; class-transformer overflows its stack around 1,500. */
export const MAX_JSON_DEPTH = 32;

/** Whether a JSON text opens more than `max` objects or arrays inside each other. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) {
        i += 1; // the escaped character
      } else if (code === 0x22) {
        inString = false;
      }
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > max) {
        return true;
      }
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

/** A `\uD800`-`\uDFFF` escape: the only way a JSON text can carry half a surrogate pair. */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces the JSON body parser: Fastify's own (which refuses `__proto__` and
 * `constructor.prototype` keys), behind a depth check, so that a deeply nested body is a
 * 400 and not a stack overflow. Unpaired surrogates become U+FFFD (see `wellFormed`).
 */
export function installJsonBodyParser(app: NestFastifyApplication, bodyLimit: number): void {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    const text = body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new ProblemException(
          HttpStatus.BAD_REQUEST,
          `The JSON body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; send the documented flat object.`,
        ),
        undefined,
      );
      return;
    }
    if (!LONE_SURROGATE_ESCAPE.test(text)) {
      void parseJson(request, text, done);
      return;
    }
    void parseJson(request, text, (error, value) => done(error, error ? undefined : wellFormed(value)));
  });
}

/**
 * Every string with its unpaired surrogates replaced by U+FFFD, as invalid UTF-8 bytes
 * already are: validator.js's e-mail check, among others, throws on them (encodeURI).
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(LONE_SURROGATE, '\uFFFD');
  }
  if (Array.isArray(value)) {
    return value.map(wellFormed);
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      (value as Record<string, unknown>)[key] = wellFormed(item);
    }
  }
  return value;
}
