import type { Page, Sender } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, WaggleError } from '@waggle/contracts';

/** A keyset cursor of one or two string values (the sort key, then the id). */
type Keys = string[];
const isKeys = (v: unknown): v is Keys => Array.isArray(v) && v.length <= 2 && v.every((x) => typeof x === 'string');

export function cursorKeys(cursor: string | undefined): Keys | undefined {
  return decodeCursor(cursor, isKeys);
}

/** The page of `rows` (fetched with one row more than `limit`), with the cursor of its last item. */
export function pageOf<R, V>(rows: R[], limit: number, keysOf: (row: R) => Keys, view: (row: R) => V): Page<V> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items: items.map(view), nextCursor: more && last ? encodeCursor(keysOf(last)) : undefined };
}

export const limitOf = (limit: number | undefined) => limit ?? DEFAULT_PAGE_SIZE;

/** `ILIKE` pattern of a search term, with the wildcards in it taken literally. */
export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** How an actor is named in history: a person's or token's name, or `machine NAME`. */
export const actorName = (sender: Sender | undefined): string =>
  !sender ? 'tracker' : sender.kind === 'machine' ? `machine ${sender.name}` : sender.name;

export const iso = (value: Date | string | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

/** The one number a list's cursor holds (a sequence or a position), refused when it is anything else. */
export function numericCursor(cursor: string | undefined): string | undefined {
  const [value] = cursorKeys(cursor) ?? [];
  if (value !== undefined && !/^\d{1,18}$/.test(value)) {
    throw WaggleError.invalid('cursor is not a cursor returned by a previous page', [
      { field: 'cursor', errors: ['cursor is malformed'] },
    ]);
  }
  return value;
}
