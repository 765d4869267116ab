import { describe, expect, it } from "vitest";
import type { Command, ParseContext } from "../../bot/command.ts";
import { parse } from "../../bot/grammar.ts";
import { helpText, VERBS } from "../../bot/help.ts";

const NONE: ParseContext = {};
/** A channel bound to web/production, names unknown. */
const BOUND: ParseContext = { app: "web", env: "production" };
const KNOWN: ParseContext = {
  apps: ["hello", "web"],
  envs: { web: ["production", "staging"], hello: ["production"] },
};
const DEFAULTS: ParseContext = { ...KNOWN, defaultEnvs: { hello: "production", web: "staging" } };
const BOUND_KNOWN: ParseContext = { ...KNOWN, app: "web", env: "production", channel: "C123" };

type Row = [text: string, context: ParseContext, command: Command];

const d = (app: string, env: string, ref?: string, force = false): Extract<Command, { kind: "deploy" }> =>
  ref === undefined ? { kind: "deploy", app, env, force } : { kind: "deploy", app, env, ref, force };

const forms: Row[] = [
  // deploy, every form
  ["deploy web production", NONE, d("web", "production")],
  ["deploy web to production", NONE, d("web", "production")],
  ["deploy web production v1.4.2", NONE, d("web", "production", "v1.4.2")],
  ["deploy web to production v1.4.2", NONE, d("web", "production", "v1.4.2")],
  ["deploy web@v1.4.2 to production", NONE, d("web", "production", "v1.4.2")],
  ["deploy web@v1.4.2 production", NONE, d("web", "production", "v1.4.2")],
  ["deploy web/feature-x to staging", NONE, d("web", "staging", "feature-x")],
  ["deploy web/feature/x/y to staging", NONE, d("web", "staging", "feature/x/y")],
  ["deploy web@release/2024.06 to staging", NONE, d("web", "staging", "release/2024.06")],
  ["deploy web production 3f9a1c2", NONE, d("web", "production", "3f9a1c2")],
  ["deploy web production Feature_X-1", NONE, d("web", "production", "Feature_X-1")],
  ["web production deploy", NONE, d("web", "production")],
  ["web production deploy v1.4.2", NONE, d("web", "production", "v1.4.2")],
  ["web production deploy! v1.4.2", NONE, d("web", "production", "v1.4.2", true)],
  ["deploy! web production", NONE, d("web", "production", undefined, true)],
  ["deploy! web@v2 to production", NONE, d("web", "production", "v2", true)],
  ["Deploy web production", NONE, d("web", "production")],
  ["DEPLOY! web production", NONE, d("web", "production", undefined, true)],
  ["  deploy\tweb \n production  ", NONE, d("web", "production")],
  ["deploy\u00a0web\u00a0production", NONE, d("web", "production")],
  ["deploy web production", KNOWN, d("web", "production")],
  ["deploy hello production", BOUND_KNOWN, d("hello", "production")],
  // mentions and Slack markup
  ["<@U123> deploy web production", NONE, d("web", "production")],
  ["<@U123|raptor> deploy web production", NONE, d("web", "production")],
  ["<@U123>: deploy web production", NONE, d("web", "production")],
  ["<@W0ABC> <@U123> deploy web production", NONE, d("web", "production")],
  ["`deploy web production`", NONE, d("web", "production")],
  ["deploy <mailto:web@v1.4.2|web@v1.4.2> to production", NONE, d("web", "production", "v1.4.2")],
  // deploy in a bound channel
  ["deploy", BOUND, d("web", "production")],
  ["deploy!", BOUND, d("web", "production", undefined, true)],
  ["<@U123> deploy! ", BOUND, d("web", "production", undefined, true)],
  ["deploy v1.4.2", BOUND, d("web", "production", "v1.4.2")],
  ["deploy feature/x", BOUND, d("web", "production", "feature/x")],
  ["deploy web/feature-x", BOUND, d("web", "production", "feature-x")],
  ["deploy web@v1", BOUND, d("web", "production", "v1")],
  ["deploy web", BOUND, d("web", "production")],
  // a default environment (issue 11 item 5): the playbook's default_environment, or the only one
  ["deploy hello", DEFAULTS, d("hello", "production")],
  ["deploy web", DEFAULTS, d("web", "staging")],
  ["deploy web@v2", DEFAULTS, d("web", "staging", "v2")],
  ["deploy web production", DEFAULTS, d("web", "production")],
  ["rollback hello", DEFAULTS, { kind: "rollback", app: "hello", env: "production" }],
  ["scale! web production web=0", NONE, { kind: "scale", app: "web", env: "production", scale: { web: 0 }, confirmed: true }],
  ["config secret web production API=x8f3a2c91", NONE, { kind: "config-set", app: "web", env: "production", vars: { API: "x8f3a2c91" }, secret: true }],
  ["deploy web v1", BOUND_KNOWN, d("web", "production", "v1")],
  ["deploy to staging", BOUND, d("web", "staging")],
  ["deploy to staging v9", BOUND_KNOWN, d("web", "staging", "v9")],
  ["deploy web staging", BOUND, d("web", "staging")],
  ["deploy hello/main to production", BOUND_KNOWN, d("hello", "production", "main")],
  // rollback
  ["rollback web production", NONE, { kind: "rollback", app: "web", env: "production" }],
  ["rollback web production v41", NONE, { kind: "rollback", app: "web", env: "production", release: 41 }],
  ["rollback web production 41", NONE, { kind: "rollback", app: "web", env: "production", release: 41 }],
  ["rollback web production V7", NONE, { kind: "rollback", app: "web", env: "production", release: 7 }],
  ["rollback", BOUND, { kind: "rollback", app: "web", env: "production" }],
  ["rollback v40", BOUND, { kind: "rollback", app: "web", env: "production", release: 40 }],
  ["rollback web 40", BOUND, { kind: "rollback", app: "web", env: "production", release: 40 }],
  // scale
  ["scale web production web=6 worker=2", NONE, { kind: "scale", app: "web", env: "production", scale: { web: 6, worker: 2 } }],
  ["scale web=6 worker=2", BOUND, { kind: "scale", app: "web", env: "production", scale: { web: 6, worker: 2 } }],
  ["scale web web=6", BOUND, { kind: "scale", app: "web", env: "production", scale: { web: 6 } }],
  ["scale web production web=0 clock=100", NONE, { kind: "scale", app: "web", env: "production", scale: { web: 0, clock: 100 } }],
  ["scale web production web=006", NONE, { kind: "scale", app: "web", env: "production", scale: { web: 6 } }],
  ["scale web production constructor=1", NONE, { kind: "scale", app: "web", env: "production", scale: { constructor: 1 } }],
  ["scale hello production web=1", BOUND_KNOWN, { kind: "scale", app: "hello", env: "production", scale: { web: 1 } }],
  // restart
  ["restart web production", NONE, { kind: "restart", app: "web", env: "production" }],
  ["restart web production worker", NONE, { kind: "restart", app: "web", env: "production", proc: "worker" }],
  ["restart", BOUND, { kind: "restart", app: "web", env: "production" }],
  ["restart worker", BOUND, { kind: "restart", app: "web", env: "production", proc: "worker" }],
  ["restart web", BOUND, { kind: "restart", app: "web", env: "production" }],
  ["restart web worker", BOUND_KNOWN, { kind: "restart", app: "web", env: "production", proc: "worker" }],
  ["restart web worker", BOUND, { kind: "restart", app: "web", env: "worker" }],
  // status and aliases
  ["status web", NONE, { kind: "status", app: "web" }],
  ["status web production", NONE, { kind: "status", app: "web", env: "production" }],
  ["ps web production", NONE, { kind: "status", app: "web", env: "production" }],
  ["info web", NONE, { kind: "status", app: "web" }],
  ["status", BOUND, { kind: "status", app: "web", env: "production" }],
  ["status", { app: "web" }, { kind: "status", app: "web" }],
  ["status hello", BOUND_KNOWN, { kind: "status", app: "hello" }],
  // releases and alias
  ["releases web production", NONE, { kind: "releases", app: "web", env: "production" }],
  ["history web production", NONE, { kind: "releases", app: "web", env: "production" }],
  ["history", BOUND, { kind: "releases", app: "web", env: "production" }],
  // logs
  ["logs web production", NONE, { kind: "logs", app: "web", env: "production" }],
  ["logs web production worker", NONE, { kind: "logs", app: "web", env: "production", proc: "worker" }],
  ["logs web production 200", NONE, { kind: "logs", app: "web", env: "production", lines: 200 }],
  ["logs web production worker 5000", NONE, { kind: "logs", app: "web", env: "production", proc: "worker", lines: 5000 }],
  ["logs", BOUND, { kind: "logs", app: "web", env: "production" }],
  ["logs worker", BOUND, { kind: "logs", app: "web", env: "production", proc: "worker" }],
  ["logs 50", BOUND, { kind: "logs", app: "web", env: "production", lines: 50 }],
  ["logs worker 50", BOUND_KNOWN, { kind: "logs", app: "web", env: "production", proc: "worker", lines: 50 }],
  ["logs web 50", BOUND, { kind: "logs", app: "web", env: "production", lines: 50 }],
  // config
  ["config web production", NONE, { kind: "config", app: "web", env: "production" }],
  ["config", BOUND, { kind: "config", app: "web", env: "production" }],
  ["config set web production LOG_LEVEL=debug", NONE, { kind: "config-set", app: "web", env: "production", vars: { LOG_LEVEL: "debug" } }],
  // Pairs on lines of their own (Slack's Shift+Enter) are pairs.
  ["config set web production A=1\nB=2", NONE, { kind: "config-set", app: "web", env: "production", vars: { A: "1", B: "2" } }],
  [
    `config set web production A=1 B="two words" C='single q' D=“smart quotes” E=‘smart single’ F=`,
    NONE,
    { kind: "config-set", app: "web", env: "production", vars: { A: "1", B: "two words", C: "single q", D: "smart quotes", E: "smart single", F: "" } },
  ],
  [`config set web production GREETING="héllo wörld 👋"`, NONE, { kind: "config-set", app: "web", env: "production", vars: { GREETING: "héllo wörld 👋" } }],
  [
    "config set web production URL=postgres://u:p@h/db?a=1&amp;b=2 CMD=a;b|c",
    NONE,
    { kind: "config-set", app: "web", env: "production", vars: { URL: "postgres://u:p@h/db?a=1&b=2", CMD: "a;b|c" } },
  ],
  ["config set LOG_LEVEL=debug", BOUND, { kind: "config-set", app: "web", env: "production", vars: { LOG_LEVEL: "debug" } }],
  ["config set web LOG_LEVEL=debug", BOUND, { kind: "config-set", app: "web", env: "production", vars: { LOG_LEVEL: "debug" } }],
  // Names are case-sensitive: `port` is not Raptor's PORT; RAPTOR_-named keys of one's own are fine.
  ["config set web production port=80 RAPTOR_MODE=x", NONE, { kind: "config-set", app: "web", env: "production", vars: { port: "80", RAPTOR_MODE: "x" } }],
  ["config unset web production LOG_LEVEL OTHER", NONE, { kind: "config-unset", app: "web", env: "production", keys: ["LOG_LEVEL", "OTHER"] }],
  ["config unset LOG_LEVEL", BOUND, { kind: "config-unset", app: "web", env: "production", keys: ["LOG_LEVEL"] }],
  ["rollback! web production v41", NONE, { kind: "rollback", app: "web", env: "production", release: 41, confirmed: true }],
  ["plan rollback! web production v41", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "rollback", app: "web", env: "production", release: 41, confirmed: true } }],
  // lock / unlock
  ["lock web production", NONE, { kind: "lock", app: "web", env: "production" }],
  ["lock web production migrating the  database", NONE, { kind: "lock", app: "web", env: "production", reason: "migrating the database" }],
  [`lock web production "don't deploy: sale 🛒"`, NONE, { kind: "lock", app: "web", env: "production", reason: "don't deploy: sale 🛒" }],
  ["lock web production Grève — ne pas déployer", NONE, { kind: "lock", app: "web", env: "production", reason: "Grève — ne pas déployer" }],
  ["lock", BOUND, { kind: "lock", app: "web", env: "production" }],
  ["lock Incident 42", BOUND, { kind: "lock", app: "web", env: "production", reason: "Incident 42" }],
  ["lock db migration running", BOUND_KNOWN, { kind: "lock", app: "web", env: "production", reason: "db migration running" }],
  ["lock web production 2h migrating", NONE, { kind: "lock", app: "web", env: "production", reason: "migrating", forMs: 7_200_000 }],
  ["lock web production 1h30m", NONE, { kind: "lock", app: "web", env: "production", forMs: 5_400_000 }],
  ["lock 45m deploy freeze", BOUND_KNOWN, { kind: "lock", app: "web", env: "production", reason: "deploy freeze", forMs: 2_700_000 }],
  // A time in another spelling is refused (mistakes below); in quotes it is the reason.
  [`lock web production "2 hours"`, NONE, { kind: "lock", app: "web", env: "production", reason: "2 hours" }],
  ["lock web production 2h 2 deploys pending", NONE, { kind: "lock", app: "web", env: "production", reason: "2 deploys pending", forMs: 7_200_000 }],
  ["lock web production 1m30s", NONE, { kind: "lock", app: "web", env: "production", forMs: 90_000 }],
  ["lock web production 2fa rollout", NONE, { kind: "lock", app: "web", env: "production", reason: "2fa rollout" }],
  ["lock web production - see #ops", NONE, { kind: "lock", app: "web", env: "production", reason: "- see #ops" }],
  ["unlock web production", NONE, { kind: "unlock", app: "web", env: "production" }],
  ["unlock", BOUND, { kind: "unlock", app: "web", env: "production" }],
  // decisions
  ["approve d-k3j9x2ab", NONE, { kind: "approve", id: "d-k3j9x2ab" }],
  ["approve #d-k3j9x2ab", NONE, { kind: "approve", id: "d-k3j9x2ab" }],
  ["reject d-k3j9x2ab", NONE, { kind: "reject", id: "d-k3j9x2ab" }],
  ["reject d-k3j9x2ab not during the sale", NONE, { kind: "reject", id: "d-k3j9x2ab", reason: "not during the sale" }],
  ["cancel #d-k3j9x2ab", NONE, { kind: "cancel", id: "d-k3j9x2ab" }],
  // Issue 11 item 11: `show <id>` replays a deployment's thread.
  ["show d-k3j9x2ab", NONE, { kind: "show", id: "d-k3j9x2ab" }],
  ["Show #d-k3j9x2ab", BOUND, { kind: "show", id: "d-k3j9x2ab" }],
  // no-argument and optional-argument queries
  ["apps", NONE, { kind: "apps" }],
  ["beat", NONE, { kind: "beat" }],
  ["hosts", NONE, { kind: "hosts" }],
  ["hosts blue", NONE, { kind: "hosts", squad: "blue" }],
  ["hosts check", NONE, { kind: "hosts", check: true }],
  ["hosts check blue", NONE, { kind: "hosts", squad: "blue", check: true }],
  ["queue", NONE, { kind: "queue" }],
  ["help", NONE, { kind: "help" }],
  ["help deploy", NONE, { kind: "help", topic: "deploy" }],
  ["help ps", NONE, { kind: "help", topic: "status" }],
  ["help history", NONE, { kind: "help", topic: "releases" }],
  ["help deploy!", NONE, { kind: "help", topic: "deploy" }],
  ["help config set", NONE, { kind: "help", topic: "config-set" }],
  // New-user trial: `help` did not list `config secret`.
  ["help config secret", NONE, { kind: "help", topic: "config-secret" }],
  ["<@U123> help", NONE, { kind: "help" }],
  ["help plan", NONE, { kind: "help", topic: "plan" }],
  ["help who deployed", NONE, { kind: "help", topic: "who-deployed" }],
  // plan: the one grammar parses what follows it (issue 13 item 1)
  ["plan deploy web production", NONE, { kind: "plan", app: "web", env: "production", of: d("web", "production") }],
  ["plan deploy web@v1.4.2 to production", NONE, { kind: "plan", app: "web", env: "production", of: d("web", "production", "v1.4.2") }],
  ["plan deploy! web production main", NONE, { kind: "plan", app: "web", env: "production", of: d("web", "production", "main", true) }],
  ["plan deploy v2", BOUND, { kind: "plan", app: "web", env: "production", of: d("web", "production", "v2") }],
  ["Plan rollback web production v41", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "rollback", app: "web", env: "production", release: 41 } }],
  ["plan rollback web production", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "rollback", app: "web", env: "production" } }],
  ["plan scale web production web=6", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "scale", app: "web", env: "production", scale: { web: 6 } } }],
  ["plan scale web=6", BOUND, { kind: "plan", app: "web", env: "production", of: { kind: "scale", app: "web", env: "production", scale: { web: 6 } } }],
  ["plan config set web production A=1 B=\"two words\"", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "config-set", app: "web", env: "production", vars: { A: "1", B: "two words" } } }],
  ["plan config secret web production API=xyz-8f3a2c", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "config-set", app: "web", env: "production", vars: { API: "xyz-8f3a2c" }, secret: true } }],
  ["plan config unset web production A", NONE, { kind: "plan", app: "web", env: "production", of: { kind: "config-unset", app: "web", env: "production", keys: ["A"] } }],
  ["plan promote web staging production", KNOWN, { kind: "plan", app: "web", env: "production", of: { kind: "promote", app: "web", env: "production", from: "staging" } }],
  // promote (issue 13 item 2)
  ["promote web staging production", NONE, { kind: "promote", app: "web", env: "production", from: "staging" }],
  ["promote staging production", BOUND_KNOWN, { kind: "promote", app: "web", env: "production", from: "staging" }],
  // history (issue 13 item 4)
  ["deploys web production", NONE, { kind: "deploys", app: "web", env: "production", sinceMs: 7 * 86_400_000 }],
  ["deploys web production since 2d", NONE, { kind: "deploys", app: "web", env: "production", sinceMs: 2 * 86_400_000 }],
  ["deploys web production 12h", NONE, { kind: "deploys", app: "web", env: "production", sinceMs: 12 * 3_600_000 }],
  ["deploys since 30m", BOUND, { kind: "deploys", app: "web", env: "production", sinceMs: 30 * 60_000 }],
  ["who deployed web production", NONE, { kind: "who-deployed", app: "web", env: "production" }],
  ["Who deployed", BOUND, { kind: "who-deployed", app: "web", env: "production" }],
];

describe("parse: every form and alias", () => {
  it.each(forms)("%j", (text, context, command) => {
    expect(parse(text, context)).toEqual({ ok: true, command });
  });

  it("covers every verb and alias", () => {
    const verbs = new Set(forms.map(([text]) => text.replace(/^(<@\w+(\|\w+)?>:?\s*)+/, "").split(/\s+/)[0]!.toLowerCase()));
    for (const verb of VERBS) expect(verbs.has(verb), verb).toBe(true);
  });

  it("keeps a __proto__ config key as a plain property", () => {
    const r = parse("config set web production __proto__=x", NONE);
    expect(r.ok).toBe(true);
    if (r.ok && r.command.kind === "config-set") {
      expect(Object.keys(r.command.vars)).toEqual(["__proto__"]);
      expect(Object.getPrototypeOf(r.command.vars)).toBe(Object.prototype);
    }
  });
});

type ErrorRow = [text: string, context: ParseContext, error: string];

const mistakes: ErrorRow[] = [
  ["plan", NONE, "plan what? e.g. `plan deploy web production`, `plan rollback web production v41`, `plan scale web production web=6`."],
  ["plan restart web production", NONE, 'plan shows deploy, rollback, scale, config set/unset and promote, not "restart". e.g. `plan deploy web production`.'],
  ["plan config web production", NONE, "plan shows changes: `plan config set <app> <env> KEY=VALUE ...` or `plan config unset <app> <env> KEY ...` (`config <app> <env>` shows the config)."],
  ["plan deploy web production main extra", NONE, 'unexpected "extra" at the end. Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`.'],
  ["promote web staging", NONE, "promote web needs the environment to take the build from and the one to deploy it to, e.g. `promote web staging production`."],
  ["promote web staging staging", NONE, "promote web staging staging: the two environments must differ (to redeploy what serves, type `deploy web staging`)."],
  ["promote web stagin production", KNOWN, 'unknown environment "stagin" for web. Did you mean `staging`? Known environments: production, staging.'],
  ["deploys web production since", NONE, "deploys web production since when? e.g. `deploys web production since 2d`."],
  ["deploys web production since 5s", NONE, '"5s" is not a time to look back over: write one from 1m to 366d, e.g. `deploys web production since 2d`.'],
  ["deploys web production since forever", NONE, '"forever" is not a time to look back over: write one from 1m to 366d, e.g. `deploys web production since 2d`.'],
  ["who web production", NONE, "`who` asks `who deployed <app> <env>`, e.g. `who deployed web production`."],
  ["lock web production 10s quick", NONE, '"10s" is too short for a lock: a lock with a time lasts at least 1m, e.g. `lock web production 2h migrating`.'],
  // New-user trial, finding 5: "It is a duration, only too long. Say at most 30d".
  ["lock hello local 45d", NONE, '"45d" is too long for a lock: a lock with a time lasts at most 30d; leave the time out to lock until `unlock`.'],
  ["lock web production 90d", NONE, '"90d" is too long for a lock: a lock with a time lasts at most 30d; leave the time out to lock until `unlock`.'],
  // Red-team finding (issue 8): `-5h x` was taken as the reason of a lock with no end.
  ["lock web production -5h x", NONE, '"-5h" is not a lock duration (a lock cannot last a negative time): write one from 1m to 30d, e.g. `lock web production 2h migrating`.'],
  ["lock \u22125h x", BOUND, '"\u22125h" is not a lock duration (a lock cannot last a negative time): write one from 1m to 30d, e.g. `lock web production 2h migrating`.'],
  ["lock web production +2h x", NONE, '"+2h" is not a lock duration (write the time without a sign): write one from 1m to 30d, e.g. `lock web production 2h migrating`.'],
  ["lock web production 0h", NONE, '"0h" is not a lock duration (a lock for no time would end at once; leave the time out to lock until `unlock`): write one from 1m to 30d, e.g. `lock web production 2h migrating`.'],
  ["lock web production 0 downtime", NONE, '"0" is not a lock duration (a lock for no time would end at once; leave the time out to lock until `unlock`): write one from 1m to 30d, e.g. `lock web production 2h migrating`.'],
  ["lock web production 99999h", NONE, '"99999h" is too long for a lock: a lock with a time lasts at most 30d; leave the time out to lock until `unlock`.'],
  // New-user trial, finding 5: `lock hello local 2 hours` locked with no end, "2 hours" the reason.
  ...(
    [
      ["lock hello local 2 hours", "2 hours", "lock hello local 2h"],
      ["lock hello local 2hrs", "2hrs", "lock hello local 2h"],
      ["lock hello local 2hours", "2hours", "lock hello local 2h"],
      ["lock hello local 30 mins", "30 mins", "lock hello local 30m"],
      ["lock hello local 1 day", "1 day", "lock hello local 1d"],
      ["lock hello local 2 h db migration", "2 h", "lock hello local 2h db migration"],
      ["lock hello local an hour", "an hour", "lock hello local 1h"],
      ["lock hello local 1 hour 30 minutes", "1 hour 30 minutes", "lock hello local 90m"],
      ["lock hello local 1.5 hours", "1.5 hours", "lock hello local 90m"],
      ["lock hello local 1h 30m", "1h 30m", "lock hello local 90m"],
      ["lock hello local 2 weeks", "2 weeks", "lock hello local 14d"],
      ["lock 3 Days sale", "3 Days", "lock web production 3d sale"],
    ] as const
  ).map(([text, written, instead]): ErrorRow => [
    text,
    text.startsWith("lock 3") ? BOUND : NONE,
    `"${written}" is not a lock duration: did you mean \`${instead}\`? A lock's time is one word, such as 90m, 2h or 3d. To lock until \`unlock\` with "${written}" as the reason, put the reason in quotes.`,
  ]),
  ["lock hello local 5 weeks", NONE, '"5 weeks" is too long for a lock: a lock with a time lasts at most 30d; leave the time out to lock until `unlock`.'],
  ["lock hello local 30 seconds", NONE, '"30 seconds" is too short for a lock: a lock with a time lasts at least 1m, e.g. `lock hello local 2h migrating`.'],
  ["lock hello local 0 hours", NONE, '"0 hours" is not a lock duration (a lock for no time would end at once; leave the time out to lock until `unlock`): write one from 1m to 30d, e.g. `lock hello local 2h migrating`.'],
  ["deplyo web production", NONE, 'unknown command "deplyo". Did you mean `deploy`? Type `help` for the list.'],
  ["rollbak web production", NONE, 'unknown command "rollbak". Did you mean `rollback`? Type `help` for the list.'],
  ["frobnicate", NONE, 'unknown command "frobnicate". Type `help` for the list.'],
  ["web", KNOWN, 'unknown command "web". To deploy web, type `deploy web <env>`; `help` lists the commands.'],
  ["deploy", NONE, "deploy needs an app and an environment, e.g. `deploy hello local`."],
  ["deploy web", NONE, "deploy web needs an environment, e.g. `deploy web local`."],
  ["deploy web", KNOWN, "deploy web needs an environment, e.g. `deploy web production`. Known environments: production, staging. (or set `default_environment:` for web in the playbook)"],
  ["deploy hello", BOUND_KNOWN, "deploy hello needs an environment, e.g. `deploy hello production`. Known environments: production."],
  ["deploy web to", NONE, "deploy web to: which environment? e.g. `deploy web to production`."],
  ["deploy to staging", NONE, "deploy to staging: which app? e.g. `deploy hello to staging`."],
  ["deploy web@v1", NONE, "deploy web@v1: which environment? e.g. `deploy web@v1 to local`."],
  ["deploy web@ to production", NONE, '"web@" has no ref after "@", e.g. `deploy web@v1.4.2 to local`.'],
  ["deploy @v1 to production", NONE, '"@v1" has no app before "@", e.g. `deploy hello@v1.4.2 to local`.'],
  ["deploy web production v1 v2", NONE, 'unexpected "v2" at the end. Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`.'],
  ["deploy nope production", KNOWN, 'unknown app "nope". Known apps: hello, web.'],
  ["deploy wbe production", KNOWN, 'unknown app "wbe". Did you mean `web`? Known apps: hello, web.'],
  ["deploy web prod", KNOWN, 'unknown environment "prod" for web. Did you mean `production`? Known environments: production, staging.'],
  ["deploy web stagign", KNOWN, 'unknown environment "stagign" for web. Did you mean `staging`? Known environments: production, staging.'],
  ["deploy web qa", KNOWN, 'unknown environment "qa" for web. Known environments: production, staging.'],
  ["deploy web production", { apps: [] }, 'unknown app "web": no apps are configured yet.'],
  ["deploy Web production", NONE, '"Web" is not a valid app name: names are lowercase. Did you mean `web`?'],
  ["rollback web production vx", NONE, '"vx" is not a release: write v<N> or <N> (from 1), e.g. `rollback web production v41`.'],
  ["rollback web production v0", NONE, '"v0" is not a release: write v<N> or <N> (from 1), e.g. `rollback web production v41`.'],
  ["rollback web 41", NONE, 'rollback web needs an environment before "41", e.g. `rollback web local 41`.'],
  ["scale web=6", NONE, "scale needs an app and an environment first (this channel is not bound to one), e.g. `scale hello local web=6`."],
  // Issue 11 trial: error examples named an app `web` the demo playbook does not have.
  ["scale web=6", { apps: ["hello"], envs: { hello: ["local", "production"] } }, "scale needs an app and an environment first (this channel is not bound to one), e.g. `scale hello local web=6`."],
  ["scale web=6", { apps: ["shop"], envs: { shop: ["prod", "staging"] }, defaultEnvs: { shop: "staging" } }, "scale needs an app and an environment first (this channel is not bound to one), e.g. `scale shop staging web=6`."],
  ["status", { apps: ["shop"], envs: { shop: ["prod"] } }, "status needs an app, e.g. `status shop` or `status shop prod`."],
  ["deploy to prod", { apps: ["shop"], envs: { shop: ["prod"] } }, "deploy to prod: which app? e.g. `deploy shop to prod`."],
  ["rollback", { apps: ["shop"], envs: { shop: ["prod", "staging"] } }, "rollback needs an app and an environment, e.g. `rollback shop prod v2`."],
  ["config set LOG_LEVEL=debug", { apps: ["shop"], envs: { shop: ["prod"] } }, "config set needs an app and an environment first (this channel is not bound to one), e.g. `config set shop prod LOG_LEVEL=debug`."],
  ["scale web production", NONE, "scale web production needs proc=count pairs, e.g. `scale web production web=6 worker=2`."],
  ["scale web production web=101", NONE, '"web=101" asks for 101 processes; the limit is 100 per proc type.'],
  ["scale web production web=99999999999999999999", NONE, '"web=99999999999999999999" asks for 99999999999999999999 processes; the limit is 100 per proc type.'],
  ["scale web production web=six", NONE, '"web=six": the count must be a whole number from 0 to 100.'],
  ["scale web production web=2.5", NONE, '"web=2.5": the count must be a whole number from 0 to 100.'],
  ["scale web production web=6 web=2", NONE, "web is given twice; give each proc type once."],
  ["scale web production web", NONE, '"web" is not a proc=count pair, e.g. `web=6`.'],
  ["scale web production =6", NONE, '"=6" has no proc type before "=", e.g. `web=6`.'],
  ["scale web production Web=6", NONE, '"Web" is not a valid proc type: names are lowercase. Did you mean `web`?'],
  ["restart web production worker extra", NONE, 'unexpected "extra" at the end. Usage: `restart <app> <env> [<proc>]`, e.g. `restart web production web`.'],
  ["restart", NONE, "restart needs an app and an environment, e.g. `restart hello local web`."],
  ["status", NONE, "status needs an app, e.g. `status hello` or `status hello local`."],
  ["logs web production 0", NONE, '"0" is not a number of lines: logs shows 1 to 5000, e.g. `logs web production web 200`.'],
  ["logs web production worker 5001", NONE, '"5001" is not a number of lines: logs shows 1 to 5000, e.g. `logs web production worker 200`.'],
  ["logs web 200", NONE, 'logs web needs an environment before "200", e.g. `logs web local 200`.'],
  ["config set web production", NONE, "config set web production needs KEY=VALUE pairs, e.g. `config set web production LOG_LEVEL=debug`."],
  ["config set LOG_LEVEL=debug", NONE, "config set needs an app and an environment first (this channel is not bound to one), e.g. `config set hello local LOG_LEVEL=debug`."],
  ["config set web production LOG_LEVEL", NONE, '"LOG_LEVEL" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug` (to remove a key, use `config unset`).'],
  // Red-team finding 10: a value over two lines used to get '"line2" has no value'.
  ["config set web production A=line1\nline2", NONE, "the value of A goes over a line break: a config value is one line. Write it on one line; each KEY=VALUE pair may have a line of its own."],
  ["config set web production B=2 A=line1\r\nline2 more", NONE, "the value of A goes over a line break: a config value is one line. Write it on one line; each KEY=VALUE pair may have a line of its own."],
  ['config set web production A="line1\nline2"', NONE, "the value of A goes over a line break: a config value is one line. Write it on one line; each KEY=VALUE pair may have a line of its own."],
  ["config set web production 1X=2", NONE, '"1X" is not a valid config key: keys use letters, digits and "_", and don\'t start with a digit.'],
  ["config set web production A=1 A=2", NONE, "A is given twice; set each key once."],
  // Red-team finding (issue 8): names Raptor sets for every proc were accepted, then silently overridden.
  ["config set web production PORT=80", NONE, "config set: PORT is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)."],
  ["config secret web production LOG_LEVEL=debug HOST=0.0.0.0", NONE, "config secret: HOST is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)."],
  // Red-team finding (issue 8, 2): a short "secret" masked ordinary words everywhere.
  ["config secret evil local X_TOKEN=root", NONE, "config secret: a `config secret` value must have at least 8 characters (X_TOKEN has 4): a shorter one is too easy to guess, and masking it would hide ordinary words. Use a real secret, or `config set` under a name that is not secret-looking."],
  ["config set web production API_TOKEN=abc123 LOG_LEVEL=debug", NONE, "config set: API_TOKEN looks like a secret, and its value must have at least 8 characters (API_TOKEN has 6): a shorter one is too easy to guess, and masking it would hide ordinary words. Use a real secret, or `config set` under a name that is not secret-looking."],
  ["plan config secret web production NOTE=short", NONE, "config secret: a `config secret` value must have at least 8 characters (NOTE has 5): a shorter one is too easy to guess, and masking it would hide ordinary words. Use a real secret, or `config set` under a name that is not secret-looking."],
  ["config set RAPTOR_APP=other", BOUND, "config set: RAPTOR_APP is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)."],
  ["plan config set web production RAPTOR_RELEASE=v9", NONE, "config set: RAPTOR_RELEASE is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)."],
  [`config set web production A="open`, NONE, 'the value of A opens a quote (") that is never closed.'],
  [`config set web production A="x"y`, NONE, "the value of A goes on after its closing quote; put a space between KEY=VALUE pairs."],
  ["config set web production A=café", NONE, 'the value of A contains "é" (U+00E9); put a value with non-ASCII characters in quotes, e.g. `A="…"`.'],
  ["config unset web production", NONE, "config unset web production needs the keys to remove, e.g. `config unset web production LOG_LEVEL`."],
  ["config unset web production A A", NONE, "A is given twice; name each key once."],
  ["approve", NONE, "approve needs a deployment id, e.g. `approve d-k3j9x2ab` (the id is in the deployment's thread)."],
  ["approve x", NONE, '"x" is not a deployment id; ids look like `d-k3j9x2ab` (e.g. `approve d-k3j9x2ab`).'],
  ["show", NONE, "show needs a deployment id, e.g. `show d-k3j9x2ab` (the id is in the deployment's thread)."],
  ["show d-k3j9x2ab logs", NONE, 'unexpected "logs" at the end. Usage: `show <id>`, e.g. `show d-k3j9x2ab`.'],
  ["cancel d-k3j9x2ab now", NONE, 'unexpected "now" at the end. Usage: `cancel <id>`, e.g. `cancel d-k3j9x2ab`.'],
  ["apps please", NONE, 'unexpected "please" at the end. Usage: `apps`, e.g. `apps`.'],
  ["queue all", NONE, 'unexpected "all" at the end. Usage: `queue`, e.g. `queue`.'],
  ["help deplyo", NONE, 'no help for "deplyo". Did you mean `deploy`? Type `help` for the list.'],
  ["help me please", NONE, 'no help for "me". Type `help` for the list.'],
];

describe("parse: mistakes get an error that says what would work", () => {
  it.each(mistakes)("%j", (text, context, error) => {
    expect(parse(text, context)).toEqual({ ok: false, error });
  });
});

describe("helpText", () => {
  // Issue 11 trial: examples must name an app the playbook has, so they can be typed as shown.
  it("names the playbook's own app and environment in every example when given them", () => {
    const text = helpText(undefined, { app: "shop", env: "prod" });
    expect(text).toContain("e.g. `deploy shop prod`");
    expect(text).toContain("e.g. `deploy! shop prod`");
    expect(text).toContain("e.g. `rollback shop prod v2`");
    expect(text).not.toMatch(/\bhello (local|production)\b/);
    expect(helpText("scale", { app: "shop", env: "prod" })).toContain("e.g. `scale shop prod web=3`");
  });

  it("lists one line per command with an example from the demo app, deploy! included, title not repeated", () => {
    const lines = helpText().split("\n");
    expect(lines[0]).toBe(
      "`deploy <app> [to] <env> [<ref>]` — build and release a branch, tag or sha (default: the environment's branch). e.g. `deploy hello local`",
    );
    expect(lines[1]).toBe("`deploy! <app> <env> [<ref>]` — the same, skipping the freeze window (never the approval). e.g. `deploy! hello production`");
    expect(lines.at(-1)).toBe("In a channel bound to an app and environment you can leave those out. Type `help <command>` for details.");
    expect(helpText()).not.toContain("Raptor commands");
    // No word the rest of the chat never uses.
    expect(helpText()).not.toMatch(/swarm/i);
    expect(helpText()).not.toMatch(/\bweb production\b/);
  });

  it("every example in the reference parses", () => {
    for (const line of helpText().split("\n").slice(0, -1)) {
      const example = /e\.g\. `([^`]+)`$/.exec(line)![1]!;
      expect(parse(example, NONE).ok, example).toBe(true);
    }
  });

  it("explains one command, aliases included", () => {
    expect(helpText("rollback")).toBe(
      "`rollback <app> <env> [v<N>]` — go back to release N (default: the previous successful one).\ne.g. `rollback hello local v2`\n`v41` and `41` both mean release 41.\nA release that never served (its deployment failed or was cancelled) is refused: `rollback! ...` (or the Confirm button) goes back to it anyway.",
    );
    expect(helpText("rollback!")).toBe(helpText("rollback"));
    expect(helpText("history")).toBe(helpText("releases"));
    expect(helpText("PS")).toBe(helpText("status"));
  });

  it("suggests a topic for a misspelt one", () => {
    expect(helpText("rolback")).toBe('no help for "rolback". Did you mean `rollback`? Type `help` for the list.');
    expect(helpText("zzz")).toBe('no help for "zzz". Type `help` for the list.');
  });
});
