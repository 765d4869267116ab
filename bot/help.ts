import { MIN_SECRET_LENGTH } from "../lib/redact.ts";
import { didYouMean } from "../lib/suggest.ts";
import { REF_RULE } from "../lib/names.ts";

/**
 * The command vocabulary and its reference text. The grammar (bot/grammar.ts) takes its verbs and
 * aliases from here, so `help` and the parser cannot disagree about what exists.
 */

/** Every word that can start a command, aliases and the forcing `deploy!` included. */
export const VERBS = [
  "deploy",
  "deploy!",
  "rollback",
  "rollback!",
  "scale",
  "scale!",
  "restart",
  "status",
  "ps",
  "info",
  "releases",
  "history",
  "logs",
  "config",
  "lock",
  "unlock",
  "approve",
  "reject",
  "cancel",
  "show",
  "apps",
  "hosts",
  "queue",
  "beat",
  "help",
  "plan",
  "promote",
  "deploys",
  "who",
] as const;

export type Verb = (typeof VERBS)[number];

/** Alias -> the verb it stands for. `deploy!` is `deploy` with `force: true`. */
export const ALIASES: Readonly<Record<string, string>> = {
  ps: "status",
  info: "status",
  history: "releases",
  "deploy!": "deploy",
  "scale!": "scale",
  "rollback!": "rollback",
  who: "who-deployed",
};

interface Entry {
  /** What `help <topic>` answers to; equals the command's `kind`. */
  topic: string;
  usage: string;
  example: string;
  summary: string;
  detail: readonly string[];
}

/** One entry per command kind, in the order the reference lists them. */
export const COMMAND_HELP: readonly Entry[] = [
  {
    topic: "deploy",
    usage: "deploy <app> [to] <env> [<ref>]",
    example: "deploy hello local",
    summary: "build and release a branch, tag or sha (default: the environment's branch)",
    detail: [
      "Also `deploy <app>@<ref> to <env>`, `deploy <app>/<ref> to <env>` (the first `/` splits app from ref) and `<app> <env> deploy [<ref>]`.",
      "`deploy! ...` skips the freeze window (not the approval).",
      "An app deployed from git takes a ref, e.g. `deploy web production v1.0.0+build.5`; the demo's hello is a working copy (`working_copy: true`): it has no refs, `deploy hello local` ships the directory as it is.",
      `A ref is a branch, tag or sha as git names them (\`git check-ref-format\`). ${REF_RULE}`,
      "In a channel bound to an app and environment, `deploy` or `deploy <ref>` is enough, and `deploy to <env>` picks another environment.",
    ],
  },
  {
    topic: "rollback",
    usage: "rollback <app> <env> [v<N>]",
    example: "rollback hello local v2",
    summary: "go back to release N (default: the previous successful one)",
    detail: [
      "`v41` and `41` both mean release 41.",
      "A release that never served (its deployment failed or was cancelled) is refused: `rollback! ...` (or the Confirm button) goes back to it anyway.",
    ],
  },
  {
    topic: "scale",
    usage: "scale [<app> <env>] <proc>=<n> ...",
    example: "scale hello local web=3",
    summary: "set how many processes of each type run",
    detail: [
      "Counts are whole numbers from 0 to 100; name each proc type once.",
      "In a bound channel: `scale web=6 worker=2`.",
      "`web=0` on an environment behind a balancer takes it off the balancer: Raptor asks for `scale! ...` (or the Confirm button) first.",
    ],
  },
  {
    topic: "restart",
    usage: "restart <app> <env> [<proc>]",
    example: "restart hello local web",
    summary: "restart all processes, or one proc type",
    detail: ["In a bound channel: `restart` or `restart <proc>`."],
  },
  {
    topic: "status",
    usage: "status <app> [<env>]",
    example: "status hello local",
    summary: "current release, processes per host and their state, lock (aliases: ps, info)",
    detail: ["`ps` and `info` mean the same."],
  },
  {
    topic: "plan",
    usage: "plan <deploy|rollback|scale|config set|config unset|promote> ...",
    example: "plan deploy hello local",
    summary: "what a command would change and what stands in its way, running nothing",
    detail: [
      "Shows the commits between what serves and what would serve, the config keys added, changed and removed (secrets masked), the procs each host would start and stop, the balancer pool change, and what stands in the way: a lock, a freeze window, an approval and who may give it, your access.",
      "e.g. `plan rollback hello local v2`, `plan scale hello local web=6`, `plan config set hello local GREETING=howdy`, `plan promote hello local production`.",
    ],
  },
  {
    topic: "promote",
    usage: "promote <app> <from-env> <to-env>",
    example: "promote hello local production",
    summary: "deploy the build serving one environment to another (same commit and artifact, no rebuild), with the target's own config",
    detail: [
      "An environment with `promote_from: staging` in the playbook takes a plain `deploy` only of a commit that has served in staging; `deploy!` does not skip that.",
      "In a channel bound to an app: `promote local production`.",
    ],
  },
  {
    topic: "releases",
    usage: "releases <app> <env>",
    example: "releases hello local",
    summary: "the release history: who, when, what (commits, config keys) and how it ended (alias: history)",
    detail: ["`history` means the same."],
  },
  {
    topic: "deploys",
    usage: "deploys <app> <env> [since <duration>]",
    example: "deploys hello local since 2d",
    summary: "who asked for which deployment and how it ended, from the audit log (default: the last 7 days)",
    detail: ["Durations: `30m`, `12h`, `2d` (up to 366d). Refused requests are listed too."],
  },
  {
    topic: "who-deployed",
    usage: "who deployed <app> <env>",
    example: "who deployed hello local",
    summary: "who put the serving release in place, when and with which command, and who deployed before",
    detail: [],
  },
  {
    topic: "logs",
    usage: "logs <app> <env> [<proc>] [<lines>]",
    example: "logs hello local web 200",
    summary: "the last lines of the logs",
    detail: ["Lines: 1 to 5000."],
  },
  {
    topic: "config",
    usage: "config <app> <env>",
    example: "config hello local",
    summary: "show the configuration, secrets masked",
    detail: ["To change it: `config set <app> <env> KEY=VALUE ...`, `config unset <app> <env> KEY ...`."],
  },
  {
    topic: "config-set",
    usage: "config set <app> <env> KEY=VALUE ...",
    example: 'config set hello local GREETING=howdy MOTD="hello there"',
    summary: "set variables: a new release, then a deploy",
    detail: [
      "Keys: letters, digits and `_`, not starting with a digit.",
      "Quote a value with spaces or non-ASCII text: \"...\", '...' or Slack's curly quotes; inside quotes the text is kept exactly.",
      "Values show as typed, except secrets: keys that look secret (TOKEN, SECRET, PASSWORD, KEY, CREDENTIAL, PRIVATE, ...), URLs with a password, and values set with `config secret <app> <env> KEY=VALUE ...`, which are masked everywhere.",
    ],
  },
  {
    topic: "config-secret",
    usage: "config secret <app> <env> KEY=VALUE ...",
    example: "config secret hello local API_TOKEN=tok-8f3a2c91",
    summary: "set variables whose values are masked everywhere (chat, logs, history): a new release, then a deploy",
    detail: [
      `The same as \`config set\`, for values whose key does not look secret. A secret has at least ${MIN_SECRET_LENGTH} characters and is not a plain word (letters only, or one of Raptor's words such as a status).`,
      "From a shell, give it to `bin/raptor say -` on stdin (`say` refuses it on its command line, which every user sees in `ps`), or type it in the `make run` chat.",
    ],
  },
  {
    topic: "config-unset",
    usage: "config unset <app> <env> KEY ...",
    example: "config unset hello local GREETING",
    summary: "remove variables: a new release, then a deploy",
    detail: ["Keys: letters, digits and `_`, not starting with a digit."],
  },
  {
    topic: "lock",
    usage: "lock <app> <env> [<duration>] [reason]",
    example: "lock hello local 2h migrating the database",
    summary: "stop deploys to an environment until unlocked, or for a while",
    detail: [
      "A duration right after the environment (`30m`, `2h`, `1h30m`, `1d`) ends the lock by itself: the beat releases it and says so in the channel. It is one word from 1m to 30d.",
      "Everything after the environment (and the duration) is the reason. A time written another way (`2 hours`, `30 mins`) is refused, not taken as the reason; put a reason that starts with one in quotes.",
    ],
  },
  {
    topic: "unlock",
    usage: "unlock <app> <env>",
    example: "unlock hello local",
    summary: "allow deploys again",
    detail: [],
  },
  {
    topic: "approve",
    usage: "approve <id>",
    example: "approve d-k3j9x2ab",
    summary: "approve a deployment waiting for approval (same as the button)",
    detail: ["The id is in the deployment's thread; a leading `#` is fine."],
  },
  {
    topic: "reject",
    usage: "reject <id> [reason]",
    example: "reject d-k3j9x2ab not during the sale",
    summary: "reject a deployment waiting for approval",
    detail: ["Everything after the id is the reason."],
  },
  {
    topic: "cancel",
    usage: "cancel <id>",
    example: "cancel d-k3j9x2ab",
    summary: "stop a queued or running deployment",
    detail: ["A running one stops before its next step and cleans up. Once routing has begun it is too late: it finishes, and the reply names the rollback that undoes it."],
  },
  {
    topic: "show",
    usage: "show <id>",
    example: "show d-k3j9x2ab",
    summary: "replay a deployment's thread: what was asked, each step, logs, failures and the outcome",
    detail: ["Works for running and finished deployments; `queue` lists the open ones.", "Shown to whoever may read the environment's logs."],
  },
  { topic: "apps", usage: "apps", example: "apps", summary: "the apps and their environments", detail: [] },
  {
    topic: "hosts",
    usage: "hosts [<squad>] / hosts check [<squad>]",
    example: "hosts check local",
    summary: "the hosts: procs, state, when each last answered, its last error and the ports other programs hold; `check` tests whether they are ready",
    detail: [
      "`hosts check` tries, on each host: SSH and its host key, a writable root, a file upload, supervisord's XML-RPC and credentials, that supervisord includes Raptor's program files, and free ports in the range.",
      "Each problem comes with its fix in one line.",
    ],
  },
  { topic: "queue", usage: "queue", example: "queue", summary: "deployments waiting and running, and the beat's maintenance jobs", detail: [] },
  {
    topic: "beat",
    usage: "beat",
    example: "beat",
    summary: "the maintenance jobs: when each last ran, what it did, when it runs next",
    detail: ["Schedules come from the playbook's `beat:` section (node-cron syntax, seconds allowed)."],
  },
  {
    topic: "help",
    usage: "help [<command>]",
    example: "help deploy",
    summary: "this list, or one command in detail",
    detail: [],
  },
];

/** Every topic `help` answers: command kinds plus aliases and `deploy!`. */
export const HELP_TOPICS: readonly string[] = [...COMMAND_HELP.map((e) => e.topic), ...Object.keys(ALIASES)];

/** The help entry for a topic (kind, verb or alias, any case), if there is one. */
export function helpEntry(topic: string): Entry | undefined {
  const t = topic.trim().toLowerCase();
  const kind = Object.hasOwn(ALIASES, t) ? ALIASES[t] : t;
  return COMMAND_HELP.find((e) => e.topic === kind);
}

/** `topic`'s usage line, for error messages. */
export function usageFor(topic: string): string {
  return helpEntry(topic)?.usage ?? "help";
}

/** The app and environment help's examples are written with (the demo's). */
const EXAMPLE_NAMES = { app: "hello", env: "local" } as const;

/**
 * `topic`'s example, for error messages that show what would work, naming `names` (an app and
 * environment the playbook has) instead of the demo's.
 */
export function exampleFor(topic: string, names: { app: string; env: string } = EXAMPLE_NAMES): string {
  const example = helpEntry(topic)?.example ?? "help";
  return example.replace(`${EXAMPLE_NAMES.app} ${EXAMPLE_NAMES.env}`, `${names.app} ${names.env}`);
}

/**
 * The command reference (no topic), or one command in detail, its examples naming `names` (an app
 * and environment of the playbook; default the demo's). An unknown topic gets a did-you-mean and a
 * pointer to the full list.
 */
export function helpText(topic?: string, names: { app: string; env: string } = EXAMPLE_NAMES): string {
  if (topic === undefined || topic.trim() === "") {
    // The answer's title says "Raptor commands"; the text does not repeat it.
    const lines = COMMAND_HELP.map((e) => `\`${e.usage}\` — ${e.summary}. e.g. \`${exampleFor(e.topic, names)}\``);
    const deploy = COMMAND_HELP.findIndex((e) => e.topic === "deploy");
    const forced = names.app === EXAMPLE_NAMES.app ? "hello production" : `${names.app} ${names.env}`;
    lines.splice(deploy + 1, 0, `\`deploy! <app> <env> [<ref>]\` — the same, skipping the freeze window (never the approval). e.g. \`deploy! ${forced}\``);
    return [...lines, "In a channel bound to an app and environment you can leave those out. Type `help <command>` for details."].join("\n");
  }
  const entry = helpEntry(topic);
  if (!entry) {
    return `no help for "${topic}".${didYouMean(topic, HELP_TOPICS)} Type \`help\` for the list.`;
  }
  return [`\`${entry.usage}\` — ${entry.summary}.`, `e.g. \`${exampleFor(entry.topic, names)}\``, ...entry.detail].join("\n");
}
