import { plainToInstance } from 'class-transformer';
import type { ValidationError } from 'class-validator';
import { ValidateIf, validateSync } from 'class-validator';

import type { FieldError } from './errors';
import { WaggleError } from './errors';

export type Constructor<T> = new (...args: never[]) => T;

/** Marks a field that is always present and may be null (`string | null`); the OpenAPI document reads the mark. */
export const NULLABLE = 'nullable';

/** Always present, may be null: the other rules apply only to a non-null value. */
export function Nullable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== null, { context: NULLABLE });
}

/** Flattens class-validator's nested errors into `a.b[0].c: rule` field errors. */
export function toFieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) {
      out.push({ field, errors: Object.values(error.constraints) });
    }
    if (error.children?.length) {
      out.push(...toFieldErrors(error.children, field));
    }
  }
  return out;
}

/**
 * Turns untrusted plain data into a validated instance of `type`, or throws an
 * INVALID_INPUT WaggleError listing every field that is wrong. Unknown fields are refused.
 */
export function decode<T extends object>(type: Constructor<T>, plain: unknown): T {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw WaggleError.invalid(`${type.name}: expected a JSON object`);
  }
  const instance = plainToInstance(type as new () => T, plain, { enableImplicitConversion: false });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length) {
    const fields = toFieldErrors(errors);
    throw WaggleError.invalid(`${type.name} is invalid: ${fields.map((f) => f.field).join(', ')}`, fields);
  }
  return instance;
}
