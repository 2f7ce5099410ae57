/** The visor's one HTTP client: same-origin fetch, the session cookie or a bearer token, the gateway's error body. */

export type Role = 'viewer' | 'operator' | 'admin';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'waggle-token';

/** The API token of a token sign-in, kept for the tab only (sessionStorage); absent with a cookie session. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

type ExpiryListener = (expiresAt: string) => void;
type SignedOutListener = () => void;
const expiryListeners = new Set<ExpiryListener>();
const signedOutListeners = new Set<SignedOutListener>();

/** Called with X-Waggle-Session-Expires of every cookie-authenticated response. */
export function onSessionExpiry(listener: ExpiryListener): () => void {
  expiryListeners.add(listener);
  return () => expiryListeners.delete(listener);
}

/** Called when the API answers 401: the session ended or the token was revoked. */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

interface ErrorBody {
  code?: string;
  error?: string;
  message?: string;
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  const token = tokenStore.get();
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const expires = res.headers.get('x-waggle-session-expires');
  if (expires) {
    expiryListeners.forEach((l) => l(expires));
  }
  if (res.status === 204) {
    return undefined as T;
  }
  const data = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) {
    const err = (data ?? {}) as ErrorBody;
    if (res.status === 401 && !opts.quiet401) {
      signedOutListeners.forEach((l) => l());
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      err.code ?? err.error,
      err.message ?? res.statusText,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
  return data as T;
}

/** A query string from the defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, String(v));
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
