import { and, eq } from "drizzle-orm";
import { configVars } from "../db/schema/index.ts";
import { makeRedactor, secretValues } from "../lib/redact.ts";
import type { EngineDeps } from "./context.ts";

/**
 * The redactor for one app+environment. Secrets are: every value substituted from the
 * environment into the playbook and every playbook value under a secret-looking key
 * (`playbook.secrets`); `config set` values under a secret-looking key, carrying a password, or
 * marked secret (`config secret ...`); and `extra` (a pending change's secret values).
 * Ordinary values (`APP_ENV=local`, `GIT_BRANCH=main`) are not secrets and stay readable.
 */
export async function redactorFor(deps: EngineDeps, app: string, env: string, extra: readonly string[] = []): Promise<(text: string) => string> {
  const rows = await deps.db
    .select({ key: configVars.key, value: configVars.value, secret: configVars.secret })
    .from(configVars)
    .where(and(eq(configVars.app, app), eq(configVars.env, env)));
  const marked = new Set(rows.filter((r) => r.secret).map((r) => r.key));
  const set = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  return makeRedactor([...deps.playbook.secrets, ...secretValues(set, marked), ...extra]);
}

/** The secret values among a `config set`'s `vars` (see `secretValues`); `secretKeys` were marked secret. */
export function pendingSecrets(params: { vars?: Record<string, string>; secretKeys?: string[] }): string[] {
  return secretValues(params.vars ?? {}, new Set(params.secretKeys ?? []));
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

/**
 * Identifier fields of an event (app, env, kind, step, release numbers, commit, hosts, ids, who):
 * never masked, because a secret that happens to equal a name would otherwise blank the thread's
 * title and break the Rollback button's value. Every other field is free text and is redacted.
 */
const IDENTIFIER_FIELDS: ReadonlySet<string> = new Set([
  "type", "kind", "app", "env", "step", "steps", "requestedBy", "origin", "behind", "fromRelease",
  "release", "previousRelease", "commit", "hosts", "by", "approvers", "expiresAt", "durationMs", "code",
]);

/** Redacts an event body's free-text fields (summary, message, output, log text, reason). */
export function redactEvent<T extends object>(body: T, redact: (text: string) => string): T {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, IDENTIFIER_FIELDS.has(k) ? v : redactDeep(v, redact)])) as T;
}
