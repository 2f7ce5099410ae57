import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type ProgramName =
  | 'registry'
  | 'gateway'
  | 'node-agent'
  | 'task-router'
  | 'llm-failover'
  | 'github-bot'
  | 'sessions'
  | 'tracker'
  | 'vault'
  | 'cli';

/** The hub services, each of which a process can host (their `dist/service.js` exports `service`). */
export const HUB_SERVICES = [
  'registry',
  'task-router',
  'llm-failover',
  'github-bot',
  'sessions',
  'tracker',
  'vault',
  'gateway',
] as const;
export type HubServiceName = (typeof HUB_SERVICES)[number];

/** Path of a hub app's compiled service module (beside its main.js), for a process hosting several. */
export function hostedServicePath(name: HubServiceName, from = __dirname): string {
  return join(dirname(programPath(name, from)), 'service.js');
}

/**
 * Path of an app's compiled entry point, for starting it as its own process (launchers and
 * test harnesses start apps; they never import them). Found by walking up to the repo root.
 */
export function programPath(name: ProgramName, from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'apps', name, 'dist', 'main.js');
    if (existsSync(candidate)) {
      return candidate;
    }
    if (dirname(dir) === dir) {
      throw new Error(`cannot find apps/${name}/dist/main.js above ${from}: run \`npm run build\``);
    }
  }
}
