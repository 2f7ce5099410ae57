import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type ProgramName = 'registry' | 'gateway' | 'node-agent' | 'task-router' | 'llm-failover' | 'github-bot' | 'cli';

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
