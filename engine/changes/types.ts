/**
 * What a change does to an app+environment, as plain data: the commits between what serves and
 * what would serve, and the config keys added, changed and removed. Shared by `plan`, the
 * deployment thread's head and summary (events carry it) and the Rollback button's confirmation.
 * Values in a ConfigDiff are already masked (see diffConfig): it may go into events and chat.
 */

/** One commit as people read it in a range. `subject` and `author` are repo text: escape on display. */
export interface CommitLine {
  /** Short sha (7 hex digits). */
  sha: string;
  subject: string;
  author: string;
}

/** The most commits a range lists; the rest are counted ("N more"). */
export const MAX_LISTED_COMMITS = 10;

/**
 * The commits between two commits. `added`: in `to`, not in `from` (what a deploy brings), newest
 * first, at most MAX_LISTED_COMMITS, with `addedCount` the full number. `removed`: in `from`, not
 * in `to` (what a rollback takes away), the same way. `from` is absent on a first deploy.
 */
export interface CommitRange {
  from?: string;
  to: string;
  added: CommitLine[];
  addedCount: number;
  removed: CommitLine[];
  removedCount: number;
}

/** A config change by key. Values are masked where the secrets rules say so (`[REDACTED]`). */
export interface ConfigDiff {
  added: { key: string; value: string }[];
  changed: { key: string; from: string; to: string }[];
  removed: string[];
}

export const MASK = "[REDACTED]";

/**
 * The difference between two configs, keys sorted. `shown(key, value)` gives a value as it may be
 * displayed: the secrets rules of lib/redact.ts applied by the caller (a secret-looking key, a URL
 * with a password, a key marked with `config secret`, a playbook secret), else the value itself.
 * A changed secret shows as `[REDACTED] → [REDACTED]`: that it changed is news, the values are not.
 */
export function diffConfig(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  shown: (key: string, value: string) => string,
): ConfigDiff {
  const out: ConfigDiff = { added: [], changed: [], removed: [] };
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const had = Object.hasOwn(before, key);
    const has = Object.hasOwn(after, key);
    if (had && !has) out.removed.push(key);
    else if (!had && has) out.added.push({ key, value: shown(key, after[key]!) });
    else if (before[key] !== after[key]) out.changed.push({ key, from: shown(key, before[key]!), to: shown(key, after[key]!) });
  }
  return out;
}

/** Whether a config diff says nothing changed. */
export function configUnchanged(d: ConfigDiff): boolean {
  return d.added.length === 0 && d.changed.length === 0 && d.removed.length === 0;
}

/** Every key a diff touches, sorted (for history lines: which keys changed, no values). */
export function changedKeys(d: ConfigDiff): string[] {
  return [...d.added.map((a) => a.key), ...d.changed.map((c) => c.key), ...d.removed].sort();
}
