import { and, eq } from "drizzle-orm";
import { configVars } from "../db/schema/index.ts";
import { makeRedactor } from "../lib/redact.ts";
import type { EngineDeps } from "./context.ts";

/**
 * Secrets are every value substituted from the environment into the playbook, and every value
 * set with `config set` (people put API keys there).
 */
export async function redactorFor(deps: EngineDeps, app: string, env: string, extra: readonly string[] = []): Promise<(text: string) => string> {
  const rows = await deps.db
    .select({ value: configVars.value })
    .from(configVars)
    .where(and(eq(configVars.app, app), eq(configVars.env, env)));
  return makeRedactor([...deps.playbook.secrets, ...rows.map((r) => r.value), ...extra]);
}

/**
 * Applies a text redactor to every string inside a value (object keys included). Redacting the
 * JSON text instead would miss secrets holding `"`, `\` or newlines, which JSON escapes.
 */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v, redact)])) as T;
  }
  return value;
}
