/**
 * Building blocks shared by the section schemas. Every error message is a predicate ("must be
 * ...") that the loader prefixes with the dotted path and follows with ", got <value>"; issues
 * whose message is already a full sentence carry `params.complete`.
 */
import { z } from "zod";
import { didYouMean } from "../../lib/suggest.ts";
import { ENV_KEY, IDENT, reservedEnvKeyProblem } from "../../lib/names.ts";
import { parseDuration } from "../duration.ts";

export const ID_PATTERN = IDENT;
export const ID_RULE = 'names use lowercase letters, digits, "-" and "_", start with a letter or digit, and are at most 63 characters';

/** What a schema attaches to an issue so the loader can word it. */
export interface IssueParams {
  /** An unknown key: the loader words it "unknown key ... Did you mean ...". */
  unknownKey?: true;
  candidates?: string[];
  /** The message is a whole sentence: no ", got ..." after it. */
  complete?: true;
}

/** Marks keys not in `shape` as issues (at the key's own path, so it gets its own line). */
export function strict<S extends z.ZodRawShape>(shape: S) {
  const params: IssueParams = { unknownKey: true, candidates: Object.keys(shape) };
  // A superRefine issue (unlike z.custom's) does not abort, so checks that run on a partly
  // invalid object (`when`) still see it.
  const unknownKey = z.unknown().superRefine((_, ctx) => ctx.addIssue({ code: "custom", message: "unknown key", params }));
  return z.object(shape, { error: "must be a mapping of keys to values" }).catchall(unknownKey);
}

/** A name in a section or a reference to one. */
export const identifier = z
  .string({ error: "must be a name" })
  .regex(ID_PATTERN, { error: `must be a valid name (${ID_RULE})` });

/** Record keys that must be identifiers (environment names, proc types). */
export const identifierKey = z.string().regex(ID_PATTERN, { error: `is not a valid name (${ID_RULE})` });

/**
 * Environment names (keys of `environments:`): identifiers without "-", because proc names
 * (`<app>-<env>-v<N>-...`) are split on it and app names may contain it.
 */
export const environmentKey = z.string().superRefine((k, ctx) => {
  if (!ID_PATTERN.test(k)) ctx.addIssue({ code: "custom", message: `is not a valid name (${ID_RULE})` });
  else if (k.includes("-")) ctx.addIssue({ code: "custom", message: 'is not a valid environment name: environment names may not contain "-" (it separates the parts of proc names); use "_"' });
});

/** A whole number, also when it came from `${ENV_VAR}` as a string of digits. */
export function wholeNumber(message: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (v) => (typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }),
  );
}

/** true/false, also as the strings "true"/"false" (from `${ENV_VAR}`). */
export function flag() {
  return z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean({ error: "must be true or false" }));
}

const DURATION_RULE = "must be a duration like 500ms, 5s, 2m or 1h";

/** `500ms`, `5s`, `2m`, `1h` (or `0`) -> milliseconds. */
export const duration = z
  .union([z.string(), z.literal(0)], { error: DURATION_RULE })
  .transform((v, ctx) => {
    const ms = parseDuration(String(v));
    if (ms === undefined) {
      ctx.issues.push({ code: "custom", message: DURATION_RULE, input: v });
      return z.NEVER;
    }
    return ms;
  });

/** A `duration` of at most `maxMs`; `range` says the allowed range in the message ("from 0 to 1h"). */
export function boundedDuration(maxMs: number, range: string) {
  return duration.superRefine((ms, ctx) => {
    if (ms > maxMs) ctx.addIssue({ code: "custom", message: `must be a duration ${range}, like 5s or 2m` });
  });
}

export const nonEmptyString = (message = "must be a non-empty string") => z.string({ error: message }).min(1, { error: message });

/** A list of strings; a single string is taken as a list of one. */
export function stringList(message: string, item: z.ZodType<string> = nonEmptyString(message)) {
  return z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(item, { error: message }));
}

/** Environment variables: names as the shell allows, values as strings (numbers and booleans are stringified). */
export const envVars = z.record(
  z
    .string()
    .regex(ENV_KEY, { error: "is not a valid environment variable name (letters, digits and _, not starting with a digit)" })
    .superRefine((k, ctx) => {
      const reserved = reservedEnvKeyProblem(k);
      if (reserved) ctx.addIssue({ code: "custom", message: reserved });
    }),
  z.preprocess(
    (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
    z.string({ error: "must be a string (environment variables are text)" }),
  ),
  { error: "must be a mapping of NAME: value" },
);

/** Free-form settings, written to the proc's settings.yaml. */
export const settings = z.record(z.string(), z.unknown(), { error: "must be a mapping of settings" });

/** `{host}` is the only placeholder; anything else in braces is a typo. */
export function withHostPlaceholder(message: string) {
  return nonEmptyString(message).superRefine((v, ctx) => {
    for (const m of v.matchAll(/\{([^}]*)\}/g)) {
      if (m[1] === "host") continue;
      const hint = didYouMean(m[1]!, ["host"]).replace(/`host`/, "`{host}`");
      ctx.addIssue({
        code: "custom",
        message: `has an unknown placeholder {${m[1]}}: only {host} is replaced.${hint}`,
        params: { complete: true } satisfies IssueParams,
      });
    }
  });
}

export const ssh = strict({
  user: nonEmptyString("must be a user name").optional(),
  port: wholeNumber("must be a port number (1-65535)", 1, 65_535).default(22),
  key: nonEmptyString("must be the path of a private key file").optional(),
  known_hosts: nonEmptyString("must be the path of a known_hosts file").optional(),
});
