/**
 * Polls `probe` every 200 ms until it returns something truthy, and resolves to that; throws
 * "timed out waiting for <what>" once `timeoutMs` (default 30 s) have passed without. For waits
 * on state no event announces (rows, job states, supervisor states).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
