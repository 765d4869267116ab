import { withoutVerbatimMarks } from "../lib/verbatim.ts";
import { allConfigVars } from "../db/queries/config-vars.ts";
import { allKnownSecrets } from "../db/queries/known-secrets.ts";
import { actorsAmong } from "../db/queries/audit-log.ts";
import type { Playbook } from "../playbooks/types.ts";
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
 *
 * Identifiers are never masked as whole words (lib/redact.ts makeRedactor): the playbook's names
 * (`playbookIdentifiers`) and every person who typed a command whose name equals a secret value
 * (the audit log's actors, looked up for the secret values only).
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
  const names = [...playbookIdentifiers(deps.playbook), ...(await peopleNamed(deps, values))];
  lastKnown.set(deps.db, makeRedactor(values, names));
  return extra.length === 0 ? lastKnown.get(deps.db)! : makeRedactor([...values, ...maskableChatSecrets(extra)], names);
}

/** The names a playbook gives (apps, environments, proc types, squads, hosts, balancers, pools, channels): never masked. */
export function playbookIdentifiers(pb: Pick<Playbook, "apps" | "squads" | "balancers">): Set<string> {
  const names = new Set<string>();
  for (const squad of Object.values(pb.squads ?? {})) [squad.name, ...squad.hosts].forEach((n) => names.add(n));
  for (const b of Object.values(pb.balancers ?? {})) [b.name, ...b.hosts].forEach((n) => names.add(n));
  for (const app of Object.values(pb.apps ?? {})) {
    names.add(app.name);
    for (const env of Object.values(app.environments)) {
      const channels = env.channels ?? [];
      [env.name, ...Object.keys(env.size ?? {}), ...(env.listen ?? []), ...channels, ...channels.map((c) => c.replace(/^#/, ""))].forEach((n) => names.add(n));
      if (env.pool) names.add(env.pool);
    }
  }
  return names;
}

/**
 * Of the secret values, those that are people's names (audit_log actors, by its actor index). Not
 * remembered: a person's first command may come right after a secret of that name was set.
 */
async function peopleNamed(deps: EngineDeps, values: readonly string[]): Promise<string[]> {
  const candidates = [...new Set(values)].filter((v) => v.length <= 200 && !/\s/.test(v));
  return candidates.length === 0 ? [] : actorsAmong(deps.db, candidates);
}

/**
 * The redactor as of the last `redactorFor` call (the playbook's secrets before any), for
 * synchronous paths such as the logger. Never less than the playbook's secrets.
 */
export function lastKnownRedactor(deps: Pick<EngineDeps, "db" | "playbook">): Redact {
  return lastKnown.get(deps.db) ?? makeRedactor(deps.playbook.secrets, playbookIdentifiers(deps.playbook));
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
 * raptor.log's identifier fields (who, what app and env, which command and outcome, which
 * deployment) and the fields holding Raptor's own vocabulary (event, outcome, status, step, kind,
 * code): written as they are, never through the redactor, so a secret equal to a name cannot
 * erase who did what (red team M4), nor one equal to a word turn `"event":"deployment.succeeded"`
 * into `deployment.[REDACTED]` (red team 2 N4). Their values are names and codes Raptor checked, not free text.
 */
const LOG_IDENTIFIER_FIELDS: ReadonlySet<string> = new Set([
  "actor", "by", "requestedBy", "app", "env", "channel", "origin", "command", "attempted", "outcome", "code", "event", "status",
  "deploymentId", "target", "squad", "host", "proc", "pool", "kind", "step", "type",
]);

/**
 * A Logger whose every message and free-text field passes `current()` (e.g. lastKnownRedactor)
 * before it reaches the log file: raptor.log is shared by every app, so it is redacted for all of
 * them. Identifier fields (LOG_IDENTIFIER_FIELDS) holding a string are written as they are.
 */
export function redactingLogger(inner: Logger, current: () => Redact): Logger {
  const wrap =
    (level: keyof Logger) =>
    (obj: object, msg?: string): void => {
      // raptor.log prints text as it is: verbatim marks (lib/verbatim.ts) are for the chat's renderers.
      const now = current();
      const redact = (t: string) => withoutVerbatimMarks(now(t));
      const clean =
        obj instanceof Error
          ? redactError(obj, redact)
          : Object.fromEntries(Object.entries(obj).map(([k, v]) => [redact(k), LOG_IDENTIFIER_FIELDS.has(k) && typeof v === "string" ? withoutVerbatimMarks(v) : redactDeep(v, redact)]));
      inner[level](clean, msg === undefined ? undefined : redact(msg));
    };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}
