/** Deeper than any request the API takes (the deepest, a task with GitHub input, is about 4). */
export const MAX_JSON_DEPTH = 32;

/**
 * What is wrong with a parsed JSON body, or undefined when nothing is: nesting deeper than
 * `maxDepth` (validators and encoders recurse, and a 10,000-deep body would overflow their
 * stack), strings or keys that are not well-formed UTF-16 (a lone surrogate cannot be stored
 * or encoded), and NUL characters (Postgres text cannot hold them). Walks iteratively, so the
 * check itself never recurses.
 */
export function jsonProblem(body: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: body, depth: 0, path: 'body' }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, depth, path } = next;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) {
        return `${shown(path)} ${problem}`;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (depth >= maxDepth) {
      return `${shown(path)} is nested deeper than ${maxDepth} levels`;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem) {
        return `a key in ${shown(path)} ${problem}`;
      }
      stack.push({ value: item, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return undefined;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(text: string): string | undefined {
  if (LONE_SURROGATE.test(text)) {
    return 'is not valid Unicode (a lone surrogate)';
  }
  if (text.includes('\u0000')) {
    return 'contains a NUL character';
  }
  return undefined;
}

/** A path as the reply shows it: bounded, whatever the keys. */
function shown(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
