import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether a browser says this request was started by another site's page. `Sec-Fetch-Site`
 * is the browser's own word (every current browser sends it) and decides when present;
 * otherwise an `Origin` naming neither the request's host nor the hub's public address
 * (`publicUrl`, for a proxy that rewrites Host) is cross-site. No header at all: not a
 * browser's cross-site request (curl, scripts).
 */
export function isCrossSite(headers: IncomingHttpHeaders, publicUrl: string | undefined): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') {
    return site !== 'same-origin' && site !== 'none';
  }
  const origin = headers.origin;
  if (!origin) {
    return false;
  }
  try {
    const { host, origin: normalized } = new URL(origin);
    return host !== headers.host && (!publicUrl || normalized !== new URL(publicUrl).origin);
  } catch {
    return true;
  }
}
