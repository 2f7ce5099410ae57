import { AssertionError } from 'node:assert';

/**
 * The value, or a failed assertion that names what is missing. Tests narrow with this where
 * an index or a find may come back empty, instead of hiding the gap behind `!`.
 */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new AssertionError({ message: `${what} is missing` });
  }
  return value;
}
