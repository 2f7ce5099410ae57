import { gunzipSync, inflateSync } from 'node:zlib';

import { ErrorCode, INGEST_BODY_LIMIT, INGEST_EVENTS_LIMIT, WaggleError } from '@waggle/contracts';

/** Sentry's ingest URLs (`/api/<project number>/envelope/`, `/api/<n>/store/`), with or without the trailing slash. */
export const INGEST_PATH = /^\/api\/(\d{1,15})\/(envelope|store)\/?(?:\?|$)/;
/** What the gateway calls a Sentry ingest body, whatever the SDK sent as its type (Node's SDK sends none). */
export const INGEST_CONTENT_TYPE = 'application/x-sentry-envelope';

const tooLarge = (message: string) => new WaggleError(ErrorCode.PayloadTooLarge, message);
const invalid = (reason: string) =>
  WaggleError.invalid(`malformed envelope: ${reason}`, [{ field: 'body', errors: [reason] }]);

/** The body decompressed (gzip or deflate, as Content-Encoding says), refused over the limit. */
export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const how = encoding?.trim().toLowerCase();
  if (!how || how === 'identity') {
    return body;
  }
  if (how !== 'gzip' && how !== 'deflate') {
    throw WaggleError.invalid(`Content-Encoding ${how} is not read (gzip, deflate or none)`, [
      { field: 'content-encoding', errors: ['must be gzip, deflate or absent'] },
    ]);
  }
  try {
    return (how === 'gzip' ? gunzipSync : inflateSync)(body, { maxOutputLength: INGEST_BODY_LIMIT });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(`the body is over ${INGEST_BODY_LIMIT} bytes once decompressed`);
    }
    throw WaggleError.invalid(`the body is not valid ${how}`, [{ field: 'body', errors: [`not ${how}`] }]);
  }
}

function jsonLine(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The `event` items of a Sentry envelope (a header line, then items: a header line and a
 * payload, its length in bytes given or up to the newline). Other items (sessions, client
 * reports, attachments, transactions) are read past and dropped.
 */
export function eventsOfEnvelope(body: Buffer): Record<string, unknown>[] {
  let at = body.indexOf(0x0a);
  const headerEnd = at < 0 ? body.length : at;
  jsonLine(body.subarray(0, headerEnd).toString('utf8'), 'the envelope header');
  at = headerEnd + 1;
  const events: Record<string, unknown>[] = [];
  let size = 0;
  let n = 0;
  while (at < body.length) {
    const lineEnd = body.indexOf(0x0a, at);
    const headerText = body.subarray(at, lineEnd < 0 ? body.length : lineEnd).toString('utf8');
    if (!headerText.trim()) {
      at = (lineEnd < 0 ? body.length : lineEnd) + 1;
      continue;
    }
    n += 1;
    if (n > 100) {
      throw invalid('more than 100 items');
    }
    const header = jsonLine(headerText, `item ${n}'s header`);
    if (typeof header.type !== 'string') {
      throw invalid(`item ${n}'s header has no type`);
    }
    const start = lineEnd < 0 ? body.length : lineEnd + 1;
    let end: number;
    if (header.length !== undefined) {
      if (typeof header.length !== 'number' || !Number.isInteger(header.length) || header.length < 0) {
        throw invalid(`item ${n}'s length is not a whole number`);
      }
      end = start + header.length;
      if (end > body.length) {
        throw invalid(`item ${n} is shorter than its length of ${header.length} bytes`);
      }
    } else {
      const nl = body.indexOf(0x0a, start);
      end = nl < 0 ? body.length : nl;
    }
    if (header.type === 'event') {
      size += end - start;
      if (size > INGEST_EVENTS_LIMIT) {
        throw tooLarge(`the events are over ${INGEST_EVENTS_LIMIT} bytes`);
      }
      events.push(jsonLine(body.subarray(start, end).toString('utf8'), `item ${n} (event)`));
    }
    at = end + 1;
  }
  return events;
}

/** The store endpoint's body: one event as JSON. */
export function eventOfStore(body: Buffer): Record<string, unknown> {
  if (body.length > INGEST_EVENTS_LIMIT) {
    throw tooLarge(`the event is over ${INGEST_EVENTS_LIMIT} bytes`);
  }
  const text = body.toString('utf8');
  try {
    return jsonLine(text, 'the body');
  } catch {
    throw WaggleError.invalid('malformed event: the body is not a JSON object', [
      { field: 'body', errors: ['must be a JSON object'] },
    ]);
  }
}

/**
 * The ingest key of a request: `X-Sentry-Auth: Sentry sentry_key=…, …` (or the same in
 * `Authorization`), the `sentry_key` query parameter, or `X-Waggle-Ingest-Key`.
 */
export function ingestKeyOf(headers: Record<string, string | string[] | undefined>, url: string): string | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  for (const header of [first(headers['x-sentry-auth']), first(headers.authorization)]) {
    const m = header && /^\s*Sentry\s+(.*)$/i.exec(header);
    if (m) {
      const key = /(?:^|[\s,])sentry_key\s*=\s*([^,\s]+)/.exec(m[1]!)?.[1];
      if (key) {
        return key;
      }
    }
  }
  const q = url.indexOf('?');
  const fromQuery = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('sentry_key');
  return fromQuery ?? first(headers['x-waggle-ingest-key']);
}
