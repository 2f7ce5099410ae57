import type { ValidationOptions } from 'class-validator';
import { ValidateBy } from 'class-validator';

import { ErrorCode, WaggleError } from './errors';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asUuid(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}

/**
 * The ids a prefix stands for, as the range [lo, hi] of UUIDs (an index scan), as git and
 * docker take an id's first characters. A prefix is the start of a UUID's text, dashes where
 * a UUID has them or left out; undefined for anything else, a whole UUID included.
 */
export function idPrefixRange(ref: string): { lo: string; hi: string } | undefined {
  const text = ref.toLowerCase();
  if (!/^[0-9a-f-]{1,35}$/.test(text)) {
    return undefined;
  }
  const hex = text.replace(/-/g, '');
  if (!hex.length || (text.includes('-') && asUuid(hex.padEnd(32, '0')).slice(0, text.length) !== text)) {
    return undefined;
  }
  return { lo: asUuid(hex.padEnd(32, '0')), hi: asUuid(hex.padEnd(32, 'f')) };
}

/** A whole UUID, or the start of one (see idPrefixRange). */
export function isIdRef(ref: unknown): ref is string {
  return typeof ref === 'string' && (UUID_PATTERN.test(ref) || idPrefixRange(ref) !== undefined);
}

export function IsIdRef(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIdRef',
      validator: {
        validate: isIdRef,
        defaultMessage: () => '$property must be a UUID or its first characters',
      },
    },
    options,
  );
}

/**
 * The one id among `matches` (ids whose text starts with `ref`, at most a few), or a
 * not-found or ambiguity error that names the matches, as git and docker do.
 */
export function oneMatch(what: string, ref: string, matches: string[]): string {
  if (matches.length === 1) {
    return matches[0]!;
  }
  if (!matches.length) {
    throw WaggleError.notFound(what, ref);
  }
  throw new WaggleError(
    ErrorCode.InvalidInput,
    `${what} id prefix "${ref}" matches more than one ${what}: ${matches.slice(0, 5).join(', ')}${
      matches.length > 5 ? ', …' : ''
    }; give more characters`,
    { matches: matches.slice(0, 5) },
  );
}
