import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A stand-in for Claude Code under its real name: answers --version, and for `-p PROMPT`
 * edits the working tree (appends to CHANGES.md). It fails while $FAKE_CLAUDE_FAIL_FILE
 * exists, changes nothing for a prompt that says NOTHING-TO-DO, writes two follow-up issues
 * when the prompt asks for them, and appends its environment to $FAKE_CLAUDE_ENV_DUMP (so a
 * test can show that no token reached it).
 */
const FAKE_CLAUDE = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "1.0.99 (Claude Code)"; exit 0; fi
[ -n "$FAKE_CLAUDE_ENV_DUMP" ] && env >> "$FAKE_CLAUDE_ENV_DUMP"
if [ -n "$FAKE_CLAUDE_FAIL_FILE" ] && [ -e "$FAKE_CLAUDE_FAIL_FILE" ]; then echo "boom: the model could not do it"; echo "stderr line" >&2; exit 3; fi
case "$2" in *NOTHING-TO-DO*) echo "nothing to change"; exit 0;; esac
case "$2" in *WAGGLE_FOLLOW_UPS_FILE*)
  printf '[{"title":"Write the docs","body":"Docs"},{"title":"Add a test","body":"A test"}]' > "$WAGGLE_FOLLOW_UPS_FILE"
  exit 0;;
esac
echo "working on: $(echo "$2" | head -n 1)"
echo "- fixed by the fake agent" >> CHANGES.md
exit 0
`;

/** Puts the fake `claude` in `binDir` (put that first on the agent's PATH). */
export async function installFakeClaude(binDir: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  await writeFile(join(binDir, 'claude'), FAKE_CLAUDE);
  await chmod(join(binDir, 'claude'), 0o755);
}
