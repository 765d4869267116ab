/**
 * The commands a person can type, as parsed by `parse` in grammar.ts.
 * `kind` is the verb; field names are shared across kinds so dispatch can read them uniformly.
 */
export type Command =
  | { kind: "deploy"; app: string; env: string; ref?: string; force: boolean }
  /** `confirmed`: typed as `rollback!`, accepting a release that never served. */
  | { kind: "rollback"; app: string; env: string; release?: number; confirmed?: true }
  /** `confirmed`: typed as `scale!`, accepting that a routed proc type goes to 0. */
  | { kind: "scale"; app: string; env: string; scale: Record<string, number>; confirmed?: true }
  | { kind: "restart"; app: string; env: string; proc?: string }
  | { kind: "status"; app: string; env?: string }
  | { kind: "releases"; app: string; env: string }
  | { kind: "logs"; app: string; env: string; proc?: string; lines?: number }
  | { kind: "config"; app: string; env: string }
  /** `secret`: typed as `config secret ...`: every value is masked wherever it appears. */
  | { kind: "config-set"; app: string; env: string; vars: Record<string, string>; secret?: true }
  | { kind: "config-unset"; app: string; env: string; keys: string[] }
  /** `forMs`: `lock web production 2h reason` — released by the beat when the time is up. */
  | { kind: "lock"; app: string; env: string; reason?: string; forMs?: number }
  | { kind: "unlock"; app: string; env: string }
  | { kind: "approve"; id: string }
  | { kind: "reject"; id: string; reason?: string }
  | { kind: "cancel"; id: string }
  /** Replays a deployment's thread (its steps and outcome) from the stored events. */
  | { kind: "show"; id: string }
  | { kind: "apps" }
  /** `check`: run the readiness checks on the hosts (`hosts check [<squad>]`) instead of listing them. */
  | { kind: "hosts"; squad?: string; check?: true }
  | { kind: "queue" }
  | { kind: "beat" }
  | { kind: "help"; topic?: string }
  /** `promote <app> <from> <to>`: deploy the build serving `from` to `env`, with `env`'s own config. */
  | { kind: "promote"; app: string; env: string; from: string }
  /** `plan <command>`: what `of` would change and what stands in its way, running nothing. */
  | { kind: "plan"; app: string; env: string; of: PlannableCommand }
  /** `deploys <app> <env> [since <duration>]`: the audit log's deployments of the last `sinceMs`. */
  | { kind: "deploys"; app: string; env: string; sinceMs: number }
  /** `who deployed <app> <env>`: who put what serves in place (and who deployed before). */
  | { kind: "who-deployed"; app: string; env: string };

/** The commands `plan` can show without running. */
export type PlannableCommand = Extract<Command, { kind: "deploy" | "rollback" | "scale" | "config-set" | "config-unset" | "promote" }>;

export type CommandKind = Command["kind"];

/**
 * What the channel a command came from tells the parser.
 * `app`/`env` come from a playbook channel binding; `apps`/`envs` (when given) are the known names,
 * used for did-you-mean suggestions and to reject unknown names with a helpful error.
 */
export interface ParseContext {
  app?: string;
  env?: string;
  apps?: readonly string[];
  envs?: Readonly<Record<string, readonly string[]>>;
  /** App -> the environment a command that names only the app means (playbook `default_environment`, or the only one). */
  defaultEnvs?: Readonly<Record<string, string>>;
  [extra: string]: unknown;
}

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/** Commands that change something and therefore go through the engine as a deployment or a lock. */
export const MUTATING_KINDS = [
  "deploy",
  "rollback",
  "scale",
  "restart",
  "config-set",
  "config-unset",
] as const satisfies readonly CommandKind[];
