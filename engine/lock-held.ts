import { verbatim } from "../lib/verbatim.ts";
import { utcTimeEnd } from "../lib/time-text.ts";

/**
 * The sentence for someone who meets a held lock (error code `lock_held`): who holds it, why, until
 * when (rounded up: never shown ending before it does), and what to do. When the holder is the
 * asker (`asker` equals `heldBy`), it says so instead of telling them to ask themselves: a second
 * `lock` needs `unlock` first; any other request (deploy, scale, …) too. Pure.
 */
export function lockHeldText(app: string, env: string, lock: { heldBy: string; reason: string | null; expiresAt: Date | null }, asker: string, asking: "lock" | "other"): string {
  const why = lock.reason ? ` (${verbatim(lock.reason)})` : "";
  const until = lock.expiresAt ? ` until ${utcTimeEnd(lock.expiresAt)}` : "";
  if (lock.heldBy === asker) {
    return asking === "lock"
      ? `you hold this lock already on ${app} ${env}${why}${until}; \`unlock ${app} ${env}\` first to change it.`
      : `${app} ${env} is locked by ${lock.heldBy}${why}${until}. That is you: \`unlock ${app} ${env}\` first.`;
  }
  return `${app} ${env} is locked by ${lock.heldBy}${why}${until}. Ask them, or type \`unlock ${app} ${env}\` when the reason is gone.`;
}
