import { createHash } from "node:crypto";
import { UNIX_NAME } from "./names.ts";

/**
 * The names procs run as: a squad's `user:`/`group:` is a Unix name or a template with `{app}`
 * (default `raptor-{app}`, one user per app; docs/security.md). Pure: the playbook loader checks
 * these at load, and runners/proc-user.ts expands them into the identity a proc runs as.
 */

/** The placeholder in a squad's `user:`/`group:` that becomes the app's name. */
export const APP_PLACEHOLDER = "{app}";
/** The squad's `user:` when it names none: one user per app, created by Raptor. */
export const DEFAULT_PROC_USER = `raptor-${APP_PLACEHOLDER}`;
/** useradd's limit on Debian (and the `utmp` width): longer names are refused. */
export const MAX_USER_NAME = 32;
/** The part of a template that is not `{app}` may take at most this much, so an app name always fits (with its hash). */
export const MAX_TEMPLATE_FIXED = MAX_USER_NAME - 10;

/**
 * Why a squad's `user:`/`group:` value cannot be used, or undefined when it can: a Unix name, or a
 * template with one `{app}` that does not start the name and leaves room for the app's name.
 */
export function procUserProblem(value: string): string | undefined {
  const count = value.split(APP_PLACEHOLDER).length - 1;
  if (count > 1) return `may contain ${APP_PLACEHOLDER} once`;
  const fixed = value.replace(APP_PLACEHOLDER, "");
  if (value.startsWith(APP_PLACEHOLDER)) return `must not start with ${APP_PLACEHOLDER} (app names may start with a digit, user names may not): e.g. raptor-${APP_PLACEHOLDER}`;
  if (!UNIX_NAME.test(fixed)) return "must be a user or group name (lowercase letters, digits, _ and -), optionally with {app}";
  if (count === 0 && value.length > MAX_USER_NAME) return `must be at most ${MAX_USER_NAME} characters`;
  if (count === 1 && fixed.length > MAX_TEMPLATE_FIXED) return `must be at most ${MAX_TEMPLATE_FIXED} characters besides ${APP_PLACEHOLDER}`;
  if (value === "root") return "must not be root: procs run unprivileged";
  return undefined;
}

/**
 * `template` with `{app}` replaced by `app`. A name over 32 characters keeps the start of the
 * app's name and ends with 8 hex digits of its SHA-256, so two long app names never share a user:
 * `raptor-{app}` + `a-very-long-application-name-here` -> `raptor-a-very-long-appl-1c0b4e2f`.
 */
export function expandProcUser(template: string, app: string): string {
  if (!template.includes(APP_PLACEHOLDER)) return template;
  const whole = template.replace(APP_PLACEHOLDER, app);
  if (whole.length <= MAX_USER_NAME) return whole;
  const room = MAX_USER_NAME - (template.length - APP_PLACEHOLDER.length);
  const hash = createHash("sha256").update(app).digest("hex").slice(0, 8);
  return template.replace(APP_PLACEHOLDER, `${app.slice(0, room - 9)}-${hash}`);
}
