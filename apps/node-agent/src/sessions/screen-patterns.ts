import { readFile } from 'node:fs/promises';

import type { SessionCli } from '@waggle/contracts';
import { SESSION_CLIS } from '@waggle/contracts';

/**
 * How a CLI's screen says what it is doing, read on its last lines. Checked in this order:
 * a question for a person (needs input), working (busy), at its prompt (idle or finished).
 * A screen that matches none is busy while it changes and idle once it settles.
 */
export interface ScreenPatterns {
  needsInput: RegExp[];
  busy: RegExp[];
  prompt: RegExp[];
}

export type PatternSource = Partial<Record<keyof ScreenPatterns, string[]>>;

/** How many of the last non-empty lines the patterns look at. */
export const PATTERN_LINES = 12;

/** What the CLIs print today (Claude Code 1.x and 2.x, Codex CLI, Gemini CLI, a POSIX shell). */
export const DEFAULT_PATTERNS: Record<SessionCli, PatternSource> = {
  claude: {
    needsInput: ['Do you want to', '❯\\s*1\\.\\s*Yes', '\\(y/n\\)', 'Would you like to'],
    busy: ['esc to interrupt'],
    prompt: ['^\\s*[│|]?\\s*>\\s*([│|]\\s*)?$', '\\? for shortcuts'],
  },
  codex: {
    needsInput: ['Allow command\\?', 'Yes, proceed', '\\[y/N\\]', 'approve'],
    busy: ['esc to interrupt', 'Working \\('],
    prompt: ['^\\s*[▌›>]\\s*$', 'send q or ctrl\\+c to exit', '⏎ send'],
  },
  gemini: {
    needsInput: ['Allow execution', 'Apply this change\\?', '●\\s*1\\.\\s*Yes', 'Waiting for user confirmation'],
    busy: ['esc to cancel'],
    prompt: ['Type your message'],
  },
  shell: {
    needsInput: ['\\(y/n\\)\\s*$', '\\[y/N\\]\\s*$', '[Pp]assword.*:\\s*$'],
    busy: [],
    prompt: ['[$#%>]\\s*$'],
  },
  other: { needsInput: [], busy: [], prompt: [] },
};

const compile = (source: PatternSource): ScreenPatterns => ({
  needsInput: (source.needsInput ?? []).map((p) => new RegExp(p, 'm')),
  busy: (source.busy ?? []).map((p) => new RegExp(p, 'm')),
  prompt: (source.prompt ?? []).map((p) => new RegExp(p, 'm')),
});

/**
 * The patterns per CLI: the defaults, each CLI's lists replaced by those of the JSON file
 * (`{"claude": {"needsInput": ["…"]}}`) when one is given. A bad file stops the agent with why.
 */
export async function loadPatterns(file?: string): Promise<Record<SessionCli, ScreenPatterns>> {
  const sources: Record<string, PatternSource> = { ...DEFAULT_PATTERNS };
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new Error(`session patterns file ${file}: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new Error(`session patterns file ${file}: expected an object of CLI name → patterns`);
    }
    for (const [cli, source] of Object.entries(parsed as Record<string, PatternSource>)) {
      if (!(SESSION_CLIS as readonly string[]).includes(cli)) {
        throw new Error(`session patterns file ${file}: unknown CLI ${cli} (one of ${SESSION_CLIS.join(', ')})`);
      }
      sources[cli] = { ...sources[cli], ...source };
    }
  }
  const compiled = {} as Record<SessionCli, ScreenPatterns>;
  for (const cli of SESSION_CLIS) {
    try {
      compiled[cli] = compile(sources[cli] ?? {});
    } catch (error) {
      throw new Error(`session patterns for ${cli}: ${(error as Error).message}`);
    }
  }
  return compiled;
}

/** The last non-empty lines of a screen, trailing spaces trimmed. */
export function lastLines(screen: string, count: number): string[] {
  return screen
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-count);
}

/** What the screen alone says: a question, work, the prompt, or nothing it recognises. */
export function readScreen(screen: string, patterns: ScreenPatterns): 'needs_input' | 'busy' | 'prompt' | undefined {
  const lines = lastLines(screen, PATTERN_LINES);
  const tail = lines.join('\n');
  if (patterns.needsInput.some((p) => p.test(tail))) {
    return 'needs_input';
  }
  if (patterns.busy.some((p) => p.test(tail))) {
    return 'busy';
  }
  // The prompt is where the cursor waits: among the last few lines only.
  const end = lines.slice(-4).join('\n');
  if (patterns.prompt.some((p) => p.test(end))) {
    return 'prompt';
  }
  return undefined;
}
