/**
 * One spelling per git remote, so a project's repository and a machine's checkout match
 * however each was written: `acme/api`, `https://github.com/acme/api.git` and
 * `git@github.com:acme/api` all become `github.com/acme/api`. Credentials in a URL are dropped.
 */
export function remoteKey(repository: string): string {
  const value = repository.trim();
  let host: string;
  let path: string;
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(.+)$/.exec(value);
  if (/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/.test(value)) {
    host = 'github.com';
    path = value;
  } else if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    try {
      const url = new URL(value);
      host = url.protocol === 'file:' ? 'file' : url.hostname;
      path = url.pathname;
    } catch {
      return value.toLowerCase();
    }
  }
  const clean = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/, '')
    .toLowerCase();
  return `${host.toLowerCase()}/${clean}`;
}

/** The GitHub `owner/name` of a repository, when it is on GitHub (agents open pull requests only there). */
export function githubRepoOf(repository: string | null): string | undefined {
  if (!repository) {
    return undefined;
  }
  const key = remoteKey(repository);
  const match = /^github\.com\/([a-z0-9][a-z0-9-]*\/[a-z0-9._-]+)$/.exec(key);
  if (!match) {
    return undefined;
  }
  // Keep the spelling the person gave (GitHub is case-insensitive, but links read better).
  const given = /([A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(repository.trim());
  return given?.[1] && given[1].toLowerCase() === match[1] ? given[1] : match[1];
}

/** A project key from a name: `Public API` → `public-api`. */
export function keyFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 36)
    .replace(/-+$/, '');
  return slug || 'project';
}
