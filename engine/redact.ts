import { withoutVerbatimMarks } from "../lib/verbatim.ts";
import { allConfigVars } from "../db/queries/config-vars.ts";
import { allKnownSecrets } from "../db/queries/known-secrets.ts";
import type { Logger } from "../lib/logger.ts";
import { isSecretKey, isSecretValue, makeRedactor, maskableChatSecrets, secretValues } from "../lib/redact.ts";
import type { EngineDeps } from "./context.ts";

/** Text in, text with every known secret replaced by `[REDACTED]` out. */
export type Redact = (text: string) => string;

const lastKnown = new WeakMap<object, Redact>();

/**
 * The redactor over every secret Raptor knows, for EVERY app and environment: every value
 * substituted from the environment into the playbook and every playbook value under a
 * secret-looking key (`playbook.secrets`); each app+environment's `config set` values under a
 * secret-looking key, carrying a password, or marked secret (`config secret ...`); every such
 * value ever asked for (`known_secrets`, written when the request arrives); and `extra` (a
 * pending change's secret values). Stored and logged text is shared (raptor.log, job
 * records, the database, threads), so app A's secret is masked even in a message about app B.
 * Ordinary values (`APP_ENV=local`) are not secrets and stay readable. `_app` and `_env` name
 * what the caller is about; the set does not depend on them.
 */
export async function redactorFor(deps: EngineDeps, _app = "", _env = "", extra: readonly string[] = []): Promise<Redact> {
  const rows = await allConfigVars(deps.db);
  const groups = new Map<string, typeof rows>();
  for (const r of rows) groups.set(`${r.app}\0${r.env}`, [...(groups.get(`${r.app}\0${r.env}`) ?? []), r]);
  // Asked for but perhaps never applied (awaiting approval, refused, failed): masked all the same.
  const chat = await allKnownSecrets(deps.db);
  for (const group of groups.values()) {
    const marked = new Set(group.filter((r) => r.secret).map((r) => r.key));
    chat.push(...secretValues(Object.fromEntries(group.map((r) => [r.key, r.value])), marked));
  }
  // Chat-set values too short to be secrets (stored before the minimum) would mask ordinary words.
  const values = [...deps.playbook.secrets, ...maskableChatSecrets(chat)];
  lastKnown.set(deps.db, makeRedactor(values));
  return extra.length === 0 ? lastKnown.get(deps.db)! : makeRedactor([...values, ...maskableChatSecrets(extra)]);
}

/**
 * The redactor as of the last `redactorFor` call (the playbook's secrets before any), for
 * synchronous paths such as the logger. Never less than the playbook's secrets.
 */
export function lastKnownRedactor(deps: Pick<EngineDeps, "db" | "playbook">): Redact {
  return lastKnown.get(deps.db) ?? makeRedactor(deps.playbook.secrets);
}

/** The secret values among a `config set`'s `vars` (see `secretValues`); `secretKeys` were marked secret. */
export function pendingSecrets(params: { vars?: Record<string, string>; secretKeys?: string[] }): string[] {
  return Object.values(pendingSecretVars(params));
}

/** The entries of a `config set`'s `vars` whose values are secrets (as `pendingSecrets`), key -> value. */
export function pendingSecretVars(params: { vars?: Record<string, string>; secretKeys?: string[] }): Record<string, string> {
  const marked = new Set(params.secretKeys ?? []);
  return Object.fromEntries(Object.entries(params.vars ?? {}).filter(([k, v]) => marked.has(k) || isSecretKey(k) || isSecretValue(v)));
}

/**
 * Applies a text redactor to every string inside a value (object keys included). Redacting the
 * JSON text instead would miss secrets holding `"`, `\` or newlines, which JSON escapes.
 */
export function redactDeep<T>(value: T, redact: Redact): T {
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

/**
 * An Error safe to hand to storage (BullMQ's failedReason and stacktrace, a deployments row):
 * message and stack redacted, same class and own fields (code, output, ...) kept, redacted.
 */
export function redactError<E>(err: E, redact: Redact): E {
  if (!(err instanceof Error)) return redactDeep(err, redact);
  const clean = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const k of Object.getOwnPropertyNames(err)) {
    const v = (err as unknown as Record<string, unknown>)[k];
    Object.defineProperty(clean, k, { value: redactDeep(v, redact), writable: true, configurable: true, enumerable: Object.prototype.propertyIsEnumerable.call(err, k) });
  }
  return clean as E;
}

/**
 * A Logger whose every message and field passes `current()` (e.g. lastKnownRedactor) before it
 * reaches the log file: raptor.log is shared by every app, so it is redacted for all of them.
 */
export function redactingLogger(inner: Logger, current: () => Redact): Logger {
  const wrap =
    (level: keyof Logger) =>
    (obj: object, msg?: string): void => {
      // raptor.log prints text as it is: verbatim marks (lib/verbatim.ts) are for the chat's renderers.
      const now = current();
      const redact = (t: string) => withoutVerbatimMarks(now(t));
      const clean = obj instanceof Error ? redactError(obj, redact) : redactDeep(obj, redact);
      inner[level](clean, msg === undefined ? undefined : redact(msg));
    };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}
