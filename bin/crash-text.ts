/** Errors an operator fixes in their settings: one line, no stack. */
const ONE_LINE = ["SlackTokenError", "PlaybookError", "SecretKeyError"];

/**
 * What `bin/raptor` prints (after `raptor: `) when it dies of `err`: the message alone for a
 * settings mistake, else the stack, then each cause's message on its own `caused by:` line.
 * The causes matter: a query error says only `Failed query: <sql>` and leaves the reason (such
 * as Postgres's `sorry, too many clients already`) in its cause. Pure.
 */
export function crashText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const head = ONE_LINE.includes(err.name) ? err.message : (err.stack ?? err.message);
  const causes: string[] = [];
  const seen = new Set<unknown>([err]);
  for (let c = err.cause; c !== undefined && !seen.has(c) && causes.length < 5; c = c instanceof Error ? c.cause : undefined) {
    seen.add(c);
    causes.push(`caused by: ${c instanceof Error ? c.message : String(c)}`);
  }
  return [head, ...causes].join("\n");
}
