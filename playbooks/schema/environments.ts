/** `apps.<app>.environments.<env>:` — where and how an app runs: squad, sizes, config, routing, policy. */
import { z } from "zod";
import { POOL_NAME, POOL_NAME_RULE, refProblem } from "../../lib/names.ts";
import type { Access, Environment } from "../types.ts";
import { parseFreezeWindow } from "../freeze.ts";
import { MAX_APPROVAL_TIMEOUT_MS, MAX_DRAIN_MS, MAX_PROCS_PER_TYPE, MAX_UPTEST_TIMEOUT_MS } from "../../lib/limits.ts";
import {
  boundedDuration,
  envVars,
  flag,
  identifier,
  identifierKey,
  nonEmptyString,
  settings,
  stringList,
  strict,
  wholeNumber,
  type IssueParams,
} from "./common.ts";

export const DEFAULT_REF = "main";
export const DEFAULT_SIZE = { web: 1 };
export const DEFAULT_UPTEST_TIMEOUT_MS = 60_000;
/** supervisord's own default for `startsecs`. */
export const DEFAULT_STARTSECS = 1;
/** A longer warm-up is better checked by uptests than by holding the proc in STARTING. */
export const MAX_STARTSECS = 600;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 30 * 60_000;
/** Proc types that listen on a port when neither the environment nor the app says `listen`. */
export const DEFAULT_LISTEN = ["web"];

/** `listen: [web, api]`: the proc types that get a `PORT`, an uptest port and a pool node. */
export const listenList = stringList("must be a list of proc types that listen on a port, like [web, api]", identifier);

export const CHANNEL = /^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{2,})$/;
/**
 * An access-list entry: a Slack user group (`@leads`), a Slack user id (`U0123ABCD`), an email,
 * `*` (anyone), or a terminal user's name (`lead`: `$RAPTOR_USER` or an OS user, matched by the
 * terminal only; bot/terminal-access.ts). Names follow shadow-utils' default rule for user names
 * (`[a-z_][a-z0-9_.-]*`, at most 32 characters; useradd(8), "CAVEATS").
 */
const WHO = /^(@[A-Za-z0-9][A-Za-z0-9._-]*|[UW][A-Z0-9]{2,}|[^@\s]+@[^@\s]+\.[^@\s]+|\*|[a-z_][a-z0-9_.-]{0,31})$/;
const WHO_ERROR = 'must be a Slack user id (U0123ABCD), an email, a user group ("@leads"), a terminal user name (lead) or *';

const who = stringList(`${WHO_ERROR.replace("must be a", "must be a list of entries, each a")}`, z.string().regex(WHO, { error: WHO_ERROR }));

const access = strict({
  deploy: who.optional(),
  scale: who.optional(),
  rollback: who.optional(),
  config: who.optional(),
  lock: who.optional(),
  read: who.optional(),
  approve: who.optional(),
}).transform((a): Access => {
  const out: Access = {};
  for (const key of ["deploy", "scale", "rollback", "config", "lock", "read", "approve"] as const) {
    if (a[key] !== undefined) out[key] = a[key];
  }
  return out;
});

const approval = strict({
  required: flag().default(false),
  timeout: boundedDuration(MAX_APPROVAL_TIMEOUT_MS, "from 0 to 7d").default(DEFAULT_APPROVAL_TIMEOUT_MS),
  approvers: who.optional(),
}).transform((a): Environment["approval"] => {
  const out: Environment["approval"] = { required: a.required, timeout_ms: a.timeout };
  if (a.approvers !== undefined) out.approvers = a.approvers;
  return out;
});

const freezeWindow = z.string({ error: 'must be a freeze window like "Fri 16:00 - Mon 08:00" or "Sat"' }).superRefine((text, ctx) => {
  const parsed = parseFreezeWindow(text);
  if (!parsed.ok) {
    const params: IssueParams = { complete: true };
    ctx.addIssue({ code: "custom", message: `is not a freeze window ("${text}"): ${parsed.error}`, params });
  }
});

/** `npm run migrate` -> ["npm", "run", "migrate"]: never a shell string. */
const argv = z
  .union([z.string(), z.array(z.string())], { error: "must be a command (split on spaces, no shell) or a list of arguments" })
  .transform((v, ctx) => {
    const list = typeof v === "string" ? v.trim().split(/\s+/).filter(Boolean) : v;
    if (list.length === 0 || list[0] === "") {
      ctx.issues.push({ code: "custom", message: "must not be empty", input: v });
      return z.NEVER;
    }
    return list;
  });

/** An environment before the loader fills in its names and its `listen` default (the app's, else [web]). */
export type EnvironmentDraft = Omit<Environment, "name" | "app" | "listen"> & { listen?: string[] };

export const environmentSchema = strict({
  squad: identifier,
  ref: z
    .string({ error: "must be a git branch, tag or commit" })
    .superRefine((r, ctx) => {
      const problem = refProblem(r);
      if (problem) ctx.addIssue({ code: "custom", message: `must be a git branch, tag or commit (${problem})` });
    })
    .default(DEFAULT_REF),
  size: z
    .record(identifierKey, wholeNumber(`must be a whole number of procs from 0 to ${MAX_PROCS_PER_TYPE}`, 0, MAX_PROCS_PER_TYPE), { error: "must map proc types to counts, like { web: 2 }" })
    .default(DEFAULT_SIZE),
  ingredients: stringList("must be a list of ingredient names", identifier).default([]),
  env: envVars.default({}),
  settings: settings.default({}),
  balancer: identifier.optional(),
  pool: z
    .string({ error: "must be a pool name" })
    .regex(POOL_NAME, { error: `must be a pool name (${POOL_NAME_RULE})` })
    .optional(),
  listen: listenList.optional(),
  healthcheck: nonEmptyString("must be a URL path like /up")
    .refine((p) => p.startsWith("/"), { error: "must be a URL path starting with /, like /up" })
    .optional(),
  release_hook: argv.optional(),
  url: nonEmptyString("must be an http(s) URL like https://hello.example.com")
    .refine((u) => /^https?:\/\/[^\s]+$/.test(u), { error: "must be an http(s) URL like https://hello.example.com" })
    .optional(),
  drain: boundedDuration(MAX_DRAIN_MS, "from 0 to 1h").default(0),
  uptest_timeout: boundedDuration(MAX_UPTEST_TIMEOUT_MS, "from 0 to 1h").default(DEFAULT_UPTEST_TIMEOUT_MS),
  uptest_run_timeout: boundedDuration(MAX_UPTEST_TIMEOUT_MS, "from 0 to 1h").optional(),
  startsecs: wholeNumber(`must be a whole number of seconds from 0 to ${MAX_STARTSECS} (supervisord's startsecs: how long a proc must stay up to count as started), like 1`, 0, MAX_STARTSECS).default(DEFAULT_STARTSECS),
  access: access.optional(),
  approval: approval.optional(),
  /** `promote_from: staging`: a plain deploy here ships only commits that served there (see engine/changes/promotion.ts). */
  promote_from: identifier.optional(),
  freeze: stringList('must be a list of freeze windows like ["Fri 16:00 - Mon 08:00"]', freezeWindow).default([]),
  channels: stringList(
    'must be a list of channels like ["#web"] (quote them: a bare # starts a YAML comment)',
    z.string().regex(CHANNEL, { error: 'must be a channel name like "#web" or a channel id like C0123ABCD' }),
  ).default([]),
}).transform((e): EnvironmentDraft => {
  const out: EnvironmentDraft = {
    squad: e.squad,
    ref: e.ref,
    size: e.size,
    ingredients: e.ingredients,
    env: e.env,
    settings: e.settings,
    drain_ms: e.drain,
    uptest_timeout_ms: e.uptest_timeout,
    startsecs: e.startsecs,
    access: e.access ?? {},
    approval: e.approval ?? { required: false, timeout_ms: DEFAULT_APPROVAL_TIMEOUT_MS },
    freeze: e.freeze.map((f) => f.trim()),
    channels: e.channels,
  };
  if (e.balancer !== undefined) out.balancer = e.balancer;
  if (e.pool !== undefined) out.pool = e.pool;
  if (e.healthcheck !== undefined) out.healthcheck = e.healthcheck;
  if (e.listen !== undefined) out.listen = e.listen;
  if (e.uptest_run_timeout !== undefined) out.uptest_run_timeout_ms = e.uptest_run_timeout;
  if (e.release_hook !== undefined) out.release_hook = e.release_hook;
  if (e.url !== undefined) out.url = e.url;
  if (e.promote_from !== undefined) out.promote_from = e.promote_from;
  return out;
});
