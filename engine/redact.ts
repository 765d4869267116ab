import { and, eq } from "drizzle-orm";
import { configVars } from "../db/schema/index.ts";
import type { EngineDeps } from "./context.ts";

/**
 * Secrets are every value substituted from the environment into the playbook, and every value
 * set with `config set` (people put API keys there). Short values are left alone: masking "1"
 * everywhere would hide more than it protects.
 */
export function makeRedactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join("[REDACTED]");
    return out;
  };
}

/**
 * The redactor for one app+env: playbook secrets, every `config set` value stored for it, and
 * `extra` (a running config change's new values, not stored until it succeeds).
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
