import { createHash, randomUUID } from 'node:crypto';

import type { ErrorLevel, ExceptionView, ReportErrorBody, StackFrameView } from '@waggle/contracts';
import { ERROR_LEVELS } from '@waggle/contracts';

/** An event as the tracker stores it: bounded, scrubbed, with its fingerprint. */
export interface NormalisedEvent {
  id: string;
  occurredAt: Date;
  level: ErrorLevel;
  machine: string | null;
  release: string | null;
  environment: string | null;
  message: string;
  type: string;
  title: string;
  culprit: string;
  exceptions: ExceptionView[];
  tags: Record<string, string>;
  context: Record<string, unknown>;
  /** Hash of what groups it: the client's fingerprint, the stack, or the message. */
  fingerprint: string;
}

const FILTERED = '[Filtered]';
const MAX_EXCEPTIONS = 5;
const MAX_FRAMES = 50;
const MAX_TAGS = 50;
const MAX_DEPTH = 6;
const MAX_KEYS = 50;
const MAX_STRING = 2000;
const MAX_BREADCRUMBS = 30;

/** Keys whose values are secrets wherever they appear (headers, cookies, extra, contexts, request data). */
const SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|auth|cookie|session|credential|private[-_]?key|signature|csrf|xsrf|dsn|bearer|jwt|otp/i;
/** Secrets inside text: bearer/basic credentials, well-known token shapes, `token=…` in URLs. */
const SECRET_TEXT: [RegExp, string][] = [
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${FILTERED}`],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b/g, FILTERED],
  [/([?&;](?:[a-z_-]*(?:token|key|secret|password|passwd|auth|session)[a-z_-]*)=)[^&#\s]+/gi, `$1${FILTERED}`],
  [/(:\/\/[^:/@\s]+:)[^@\s]+@/g, `$1${FILTERED}@`],
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = MAX_STRING): string | undefined => {
  if (typeof v === 'string') {
    return v.length > max ? `${v.slice(0, max)}…` : v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  return undefined;
};
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 ? v : undefined;

/** Secrets in text replaced. */
export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) {
    out = out.replace(pattern, replacement);
  }
  return out;
}

/** A bounded copy of any JSON value with secret-looking keys' values replaced and secrets in text filtered. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return scrubText(str(value)!);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return value;
  }
  if (depth >= MAX_DEPTH) {
    return '[…]';
  }
  if (Array.isArray(value)) {
    return value.slice(0, MAX_KEYS).map((v) => scrub(v, depth + 1));
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value).slice(0, MAX_KEYS)) {
      out[key.slice(0, 200)] = SECRET_KEY.test(key) ? FILTERED : scrub(v, depth + 1);
    }
    return out;
  }
  return undefined;
}

/** Headers as Sentry sends them: an object or a list of pairs. */
function headersOf(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.filter((p): p is [string, unknown] => Array.isArray(p) && typeof p[0] === 'string').map((p) => [p[0], p[1]]),
    );
  }
  return isRecord(value) ? value : undefined;
}

function requestOf(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const key of ['url', 'method', 'query_string', 'data', 'env']) {
    if (value[key] !== undefined) {
      out[key] = scrub(value[key], 1);
    }
  }
  const headers = headersOf(value.headers);
  if (headers) {
    out.headers = scrub(headers, 1);
  }
  // Cookies are secrets as a whole: only their names are kept.
  if (isRecord(value.cookies)) {
    out.cookies = Object.fromEntries(Object.keys(value.cookies).slice(0, MAX_KEYS).map((k) => [k, FILTERED]));
  } else if (typeof value.cookies === 'string') {
    out.cookies = FILTERED;
  }
  return out;
}

function frameOf(value: unknown): StackFrameView | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  const frame: StackFrameView = {};
  const module = str(value.module, 300);
  const fn = str(value.function, 300);
  const filename = str(value.filename ?? value.abs_path, 500);
  if (module) {frame.module = module;}
  if (fn) {frame.function = fn;}
  if (filename) {frame.filename = filename;}
  const lineno = int(value.lineno);
  const colno = int(value.colno);
  if (lineno !== undefined) {frame.lineno = lineno;}
  if (colno !== undefined) {frame.colno = colno;}
  if (typeof value.in_app === 'boolean') {frame.inApp = value.in_app;}
  return frame;
}

function exceptionsOf(value: unknown): ExceptionView[] {
  const values = isRecord(value) ? value.values : value;
  if (!Array.isArray(values)) {
    return [];
  }
  return values
    .slice(-MAX_EXCEPTIONS)
    .filter(isRecord)
    .map((e) => {
      const stacktrace = isRecord(e.stacktrace) ? e.stacktrace : undefined;
      const frames = Array.isArray(stacktrace?.frames) ? stacktrace.frames : [];
      return {
        type: str(e.type, 200) ?? 'Error',
        value: scrubText(str(e.value, 8000) ?? ''),
        // Sentry's order: outermost first; the frames nearest the throw are the last ones.
        frames: frames
          .slice(-MAX_FRAMES)
          .map(frameOf)
          .filter((f): f is StackFrameView => f !== undefined),
      };
    });
}

function messageOf(event: Record<string, unknown>): string {
  const m = event.message ?? event.logentry;
  const text = isRecord(m) ? (m.formatted ?? m.message) : m;
  return scrubText(str(text, 8000) ?? '');
}

function tagsOf(value: unknown): Record<string, string> {
  const pairs: [unknown, unknown][] = Array.isArray(value)
    ? value.filter((p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2)
    : isRecord(value)
      ? Object.entries(value)
      : [];
  const tags: Record<string, string> = {};
  for (const [k, v] of pairs.slice(0, MAX_TAGS)) {
    const key = str(k, 64);
    const val = str(v, 200);
    if (key && val !== undefined) {
      tags[key] = SECRET_KEY.test(key) ? FILTERED : scrubText(val);
    }
  }
  return tags;
}

function timeOf(value: unknown, now: Date): Date {
  const t =
    typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
  // A clock far off (or nonsense) is not believed: the time received is kept instead.
  return t && !Number.isNaN(t.getTime()) && Math.abs(t.getTime() - now.getTime()) < 30 * 86_400_000 ? t : now;
}

const EVENT_ID = /^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The number, id, hex, path, URL and e-mail parts of a message replaced, so messages that differ only there group. */
export function normaliseMessage(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/[\w.+-]+@[\w-]+\.[\w.-]+/g, '<email>')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][\w.@-]+){2,}[\\/]?/g, '<path>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<hex>')
    .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi, '<hex>')
    .replace(/\d+(?:\.\d+)?/g, '<n>')
    .trim()
    .slice(0, 1000);
}

/** Where a frame's code lives, the same on every machine: its module, or the last two parts of its path. */
function placeOf(frame: StackFrameView): string {
  if (frame.module) {
    return frame.module;
  }
  const parts = (frame.filename ?? '').replace(/\\/g, '/').split('/').filter(Boolean);
  return parts.slice(-2).join('/');
}

/** The frames that identify an error: in-app ones when any is marked, else all. */
function groupingFrames(frames: StackFrameView[]): StackFrameView[] {
  const inApp = frames.filter((f) => f.inApp === true);
  return inApp.length ? inApp : frames;
}

/** What groups events without a client fingerprint: exception types and in-app frames, else the normalised message. */
export function defaultFingerprint(exceptions: ExceptionView[], message: string): string[] {
  const withFrames = exceptions.filter((e) => e.frames.length);
  if (withFrames.length) {
    return exceptions.flatMap((e) => [
      `type:${e.type}`,
      ...groupingFrames(e.frames).map((f) => `frame:${placeOf(f)}:${f.function ?? '?'}`),
    ]);
  }
  if (exceptions.length) {
    return exceptions.flatMap((e) => [`type:${e.type}`, `value:${normaliseMessage(e.value)}`]);
  }
  return [`message:${normaliseMessage(message)}`];
}

export function fingerprintOf(client: unknown, exceptions: ExceptionView[], message: string): string {
  const fallback = defaultFingerprint(exceptions, message);
  const sent = Array.isArray(client) ? client.map((p) => str(p, 200)).filter((p): p is string => !!p) : [];
  const parts = sent.length
    ? ['client', ...sent.slice(0, 20).flatMap((p) => (p === '{{ default }}' || p === '{{default}}' ? fallback : [p]))]
    : fallback;
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);
}

/** The innermost in-app frame, as "function (module)". */
function culpritOf(exceptions: ExceptionView[]): string {
  const last = exceptions[exceptions.length - 1];
  if (!last) {
    return '';
  }
  const frames = groupingFrames(last.frames);
  const top = frames[frames.length - 1];
  return top ? `${top.function ?? '?'} (${placeOf(top)})` : '';
}

const levelOf = (v: unknown): ErrorLevel =>
  v === 'warn' ? 'warning' : ERROR_LEVELS.includes(v as ErrorLevel) ? (v as ErrorLevel) : 'error';

/** A Sentry event (from an envelope or the store endpoint), read leniently and bounded. */
export function normaliseSentryEvent(event: Record<string, unknown>, now = new Date()): NormalisedEvent {
  const exceptions = exceptionsOf(event.exception);
  const message = messageOf(event);
  const main = exceptions[exceptions.length - 1];
  const tags = tagsOf(event.tags);
  const machine = str(event.server_name, 200) ?? tags.machine ?? tags.server_name ?? null;
  const context: Record<string, unknown> = {};
  const request = requestOf(event.request);
  if (request) {context.request = request;}
  for (const key of ['user', 'contexts', 'extra'] as const) {
    if (isRecord(event[key])) {
      context[key] = scrub(event[key]);
    }
  }
  const crumbs = isRecord(event.breadcrumbs) ? event.breadcrumbs.values : event.breadcrumbs;
  if (Array.isArray(crumbs)) {
    context.breadcrumbs = scrub(crumbs.slice(-MAX_BREADCRUMBS), 1);
  }
  for (const key of ['platform', 'logger', 'transaction'] as const) {
    const v = str(event[key], 200);
    if (v) {context[key] = v;}
  }
  const title = main ? (main.value ? `${main.type}: ${main.value}` : main.type) : message || '(no message)';
  const id = typeof event.event_id === 'string' && EVENT_ID.test(event.event_id) ? event.event_id : randomUUID();
  return {
    id: id.replace(/-/g, '').toLowerCase(),
    occurredAt: timeOf(event.timestamp, now),
    level: levelOf(event.level),
    machine,
    release: str(event.release, 200) ?? null,
    environment: str(event.environment, 200) ?? null,
    message,
    type: main?.type ?? '',
    title: title.split('\n')[0]!.slice(0, 300),
    culprit: culpritOf(exceptions),
    exceptions,
    tags,
    context,
    fingerprint: fingerprintOf(event.fingerprint, exceptions, message),
  };
}

const V8_FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?\s*$/;
const PY_FRAME = /^\s*File "(.+)", line (\d+), in (.+)$/;
const NOT_APP = /node_modules|site-packages|dist-packages|^node:|\(internal\//;

/** Frames of a stack trace in text (V8's or Python's), outermost first. */
export function framesOfText(stack: string): StackFrameView[] {
  const v8: StackFrameView[] = [];
  const py: StackFrameView[] = [];
  for (const line of stack.split('\n').slice(0, 500)) {
    const m = V8_FRAME.exec(line);
    if (m) {
      v8.push({ function: m[1] ?? '?', filename: m[2], lineno: Number(m[3]), colno: Number(m[4]), inApp: !NOT_APP.test(m[2]!) });
      continue;
    }
    const p = PY_FRAME.exec(line);
    if (p) {
      py.push({ function: p[3], filename: p[1], lineno: Number(p[2]), inApp: !NOT_APP.test(p[1]!) });
    }
  }
  // V8 lists the throw first; Python last, like Sentry.
  return (v8.length ? v8.reverse() : py).slice(-MAX_FRAMES);
}

/** A script's report (`POST /api/errors`) as an event. */
export function normaliseReport(report: ReportErrorBody, now = new Date()): NormalisedEvent {
  const tags = tagsOf(report.tags ?? {});
  if (report.source) {tags.source = report.source.slice(0, 200);}
  return normaliseSentryEvent(
    {
      level: report.level,
      server_name: report.node,
      release: report.release,
      environment: report.environment,
      tags,
      fingerprint: report.fingerprint,
      exception: {
        values: [
          {
            type: report.type,
            value: report.message,
            stacktrace: {
              frames: framesOfText(report.stack ?? '').map((f) => ({
                filename: f.filename,
                function: f.function,
                lineno: f.lineno,
                colno: f.colno,
                in_app: f.inApp,
              })),
            },
          },
        ],
      },
    },
    now,
  );
}
