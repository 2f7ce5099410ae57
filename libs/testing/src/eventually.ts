/**
 * Waits for `check` to pass (return without throwing), polling. Tests wait on conditions
 * with this, never on a bare sleep. The last failure is rethrown on timeout.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out waiting${options.what ? ` for ${options.what}` : ''}: ${reason}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}
