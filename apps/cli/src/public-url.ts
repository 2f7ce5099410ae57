import { networkInterfaces } from 'node:os';

type Interfaces = ReturnType<typeof networkInterfaces>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The hub URL another machine should use: `publicUrl` when the operator set one; else the
 * URL this command used, unless it names this machine's loopback (useless elsewhere), in
 * which case the host becomes this machine's first non-loopback IPv4 address, or a
 * placeholder that says what to put there.
 */
export function reachableHubUrl(
  hubUrl: string,
  publicUrl?: string,
  interfaces: Interfaces = networkInterfaces(),
): string {
  if (publicUrl) {
    return publicUrl.replace(/\/+$/, '');
  }
  const url = new URL(hubUrl);
  if (!LOOPBACK.has(url.hostname) && !url.hostname.startsWith('127.')) {
    return hubUrl.replace(/\/+$/, '');
  }
  const address = Object.values(interfaces)
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  url.hostname = address ?? 'HUB-ADDRESS';
  return url.toString().replace(/\/+$/, '');
}
