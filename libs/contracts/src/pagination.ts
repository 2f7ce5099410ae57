import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { WaggleError } from './errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Keyset pagination: `cursor` is opaque, taken from a previous page's `nextCursor`. */
export class PageQuery {
  /** How many items to return, 1..500 (default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  /** Opaque cursor from the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Cursors are base64url JSON so clients cannot depend on their shape. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, isValid: (v: unknown) => v is T): T | undefined {
  if (!cursor) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) {
      return value;
    }
  } catch {
    // fall through to the error below
  }
  throw WaggleError.invalid('cursor is not a cursor returned by a previous page', [
    { field: 'cursor', errors: ['cursor is malformed'] },
  ]);
}

/** The cursor of a list ordered newest first: the last item's time and id (ties broken by id). */
export interface TimeCursor {
  at: string;
  id: string;
}

export function isTimeCursor(v: unknown): v is TimeCursor {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { at: unknown }).at === 'string' &&
    typeof (v as { id: unknown }).id === 'string'
  );
}
