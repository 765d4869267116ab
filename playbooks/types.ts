/**
 * The validated, defaulted shape of the merged playbooks. playbooks/schema/ produces exactly this
 * (zod output types must be assignable to these); the engine and bot only ever read these types.
 * Secrets (`${ENV_VAR}` references) are already substituted at load; the loader remembers which
 * values came from the environment so they can be masked (see `Playbook.secrets`).
 */
export interface SshSettings {
  user: string;
  port: number; // default 22
  key?: string; // path to a private key file
  known_hosts?: string; // path to a known_hosts file; unknown or changed host keys are errors
}

export interface SupervisorSettings {
  url: string; // may contain {host}; default "http://{host}:9001/RPC2"
  username?: string;
  password?: string;
}

export interface Squad {
  name: string;
  hosts: string[];
  transport: "ssh" | "local"; // default "ssh"
  ssh: SshSettings;
  supervisor: SupervisorSettings;
  ports: { from: number; to: number }; // "5000-5999" in YAML
  root: string; // default "/apps"
  /**
   * Velociraptor's proc `user`/`group`: who procs (and their uptests and release hooks) run as.
   * A name, or a template with `{app}` (runners/proc-user.ts). Default `raptor-{app}`: each app
   * its own user, which Raptor creates on the host at the app's first start there. A fixed name
   * (`user: app`) is shared by every app of the squad and must exist. Never root. Applied when
   * Raptor reaches the host as root; a host reached as another user runs procs as that user.
   */
  user: string;
  /** Default: the user's own group. May contain `{app}` too. */
  group?: string;
}

/** The balancer kinds Raptor ships a backend for. */
export type BalancerKind = "nginx" | "varnish" | "haproxy" | "stingray" | "memory";

/**
 * One `balancers:` entry (issue #10's contract). Which keys a kind reads, and its defaults, are in
 * playbooks/schema/balancers.ts (`KIND_KEYS`, `defaultsFor`); keys a kind does not read are refused
 * at load, so every field here is either meaningful for `kind` or absent.
 */
export interface BalancerConfig {
  name: string;
  kind: BalancerKind;
  /** The balancer's own machines; every host gets every change. Empty for stingray and memory. */
  hosts: string[];
  /** "ssh" (default) or "local" (this machine, no SSH; as for squads). */
  transport: "ssh" | "local";
  ssh: SshSettings;
  /** nginx, varnish, haproxy: the directory whose pool files Raptor owns. */
  include_dir?: string;
  /** argv run on each host before every reload (nginx: [nginx, -t]). */
  validate?: string[];
  /** argv run on each host to apply a change (nginx: [nginx, -s, reload]); varnish: absent = varnishadm vcl.load/vcl.use. */
  reload?: string[];
  /** varnish: the main VCL that includes `<include_dir>/pools.vcl` (default /etc/varnish/default.vcl). */
  vcl?: string;
  /** varnish: the varnishadm argv prefix, e.g. [varnishadm, -n, /var/lib/varnish/edge] (default [varnishadm]). */
  varnishadm?: string[];
  /** haproxy: the runtime API socket (stats socket ... level admin) on each host. */
  socket?: string;
  /** stingray: the REST API base URL (https://vtm:9070/api/tm/7.0). */
  url?: string;
  username?: string;
  password?: string;
  /** stingray: accept a self-signed certificate. Default false. */
  insecure: boolean;
}

export interface Ingredient {
  name: string;
  env: Record<string, string>;
  settings: Record<string, unknown>;
}

export interface Access {
  /** Each list holds Slack user ids (U123), emails, or user groups ("@leads"). Empty/absent = anyone. */
  deploy?: string[];
  scale?: string[];
  rollback?: string[];
  config?: string[];
  lock?: string[];
  /** Who may read the environment's logs and config (`logs`, `config`); default: `deploy`'s list. */
  read?: string[];
  /** Who may approve when `approval.approvers` is not set; default: `deploy`'s list. */
  approve?: string[];
}

export interface Environment {
  name: string;
  app: string;
  squad: string;
  ref: string; // default "main"
  size: Record<string, number>; // proc type -> count; default {web: 1}
  ingredients: string[];
  env: Record<string, string>;
  settings: Record<string, unknown>;
  balancer?: string;
  pool?: string;
  healthcheck?: string; // URL path, used when the app has no uptests
  /** Where people reach this environment through its balancer (http://127.0.0.1:8080); shown in deployment summaries. */
  url?: string;
  /** Proc types that listen on a port: they get `PORT`, an uptest port and a pool node. `listen` (env, else app), default ["web"]. */
  listen: string[];
  release_hook?: string[]; // argv; a string in YAML is split on whitespace (no shell)
  drain_ms: number; // "5s" in YAML as `drain`; default 0
  uptest_timeout_ms: number; // `uptest_timeout`, default "60s": the deadline for a new proc's uptests, all runs and retries
  /** `uptest_run_timeout`: an optional cap on one run of one uptest script; none = up to the deadline. */
  uptest_run_timeout_ms?: number;
  /**
   * `startsecs`: supervisord's meaning: seconds a proc must stay up after starting before it is
   * RUNNING (0: at once; a proc that exits sooner is retried, then FATAL). Default 1.
   */
  startsecs: number;
  access: Access;
  approval: { required: boolean; timeout_ms: number; approvers?: string[] };
  freeze: string[]; // "Fri 16:00 - Mon 08:00" windows, UTC
  /** `promote_from`: another environment of the app; a plain deploy here ships only a commit that served there. */
  promote_from?: string;
  channels: string[]; // "#web" or channel ids (C123)
}

export interface App {
  name: string;
  repo: string; // URL or local path (relative paths resolved against the playbook file's directory)
  buildpack?: string; // name of a buildpack shipped under buildpacks/ or a path; detection otherwise
  environments: Record<string, Environment>;
  /** `default_environment:`: what `deploy <app>` with no environment means. */
  default_environment?: string;
  /**
   * `working_copy: true`: `repo` is a local directory deployed as it is at each deploy (uncommitted
   * edits included), snapshotted into a git repo Raptor keeps (engine/builds/working-copy.ts).
   */
  working_copy?: boolean;
}

/** The beat's jobs (engine/beat/). */
export type BeatJobName = "reconcile" | "orphans" | "hosts" | "prune" | "expire" | "digest";

/** `beat:` with defaults filled in (playbooks/schema/beat.ts); schedules are node-cron expressions. */
export interface BeatSettings {
  reconcile: { schedule: string };
  /** `grace`: how long a program named like a proc but with no live proc may live before removal. */
  orphans: { schedule: string; grace_ms: number };
  hosts: { schedule: string };
  /** `keep_builds`: builds kept per app besides those live procs and rollback targets use. */
  prune: { schedule: string; keep_builds: number };
  /** `stuck_after`: a deployment running longer than this is failed and compensated. */
  expire: { schedule: string; stuck_after_ms: number };
  /** Off when absent. */
  digest?: { schedule: string; channel: string };
}

export interface Playbook {
  squads: Record<string, Squad>;
  beat: BeatSettings;
  balancers: Record<string, BalancerConfig>;
  ingredients: Record<string, Ingredient>;
  apps: Record<string, App>;
  /** Values substituted from `${ENV_VAR}`: mask these wherever text reaches chat or logs. */
  secrets: string[];
}

/** A playbook mistake, located for the person who wrote it. */
export interface PlaybookIssue {
  file: string;
  line: number;
  message: string;
}
