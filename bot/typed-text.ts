import { MIN_SECRET_LENGTH, isSecretKey, isSecretValue } from "../lib/redact.ts";
import { QUOTES, isSpace } from "./grammar/words.ts";

/**
 * The one mask for text a person typed, wherever Raptor keeps or repeats it: the audit log's
 * summaries and reasons, raptor.log's `text` and `verb`, the chat echo of `raptor say`, `deploys`.
 * It does not depend on the grammar having understood the text: a mistyped command is where a
 * secret is most likely to sit in the wrong place (red team H1-H3). Pure.
 */

/** What stands for a hidden word or value. */
export const HIDDEN = "…";

/** The names a command may name (playbook/resolve.ts knownNames): kept in a `config set|secret` tail. */
export interface TypedNames {
  apps?: readonly string[];
  envs?: Readonly<Record<string, readonly string[]>>;
}

/** A typed word, and the part of it a mask hides (the raw text, for `maskReason`). */
interface Masked {
  shown: string;
  hidden: string[];
}

/** Keys as people write them before `=` (`API_TOKEN`, `log.level`): anything else before a `=` is hidden with it. */
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Well-known credential prefixes: Slack (xoxb-, xoxp-, ... and app-level xapp-), GitHub, GitLab, AWS access key ids. */
const CREDENTIAL_PREFIX = /^(xox[abposr]-|xapp-|gh[pousr]_|github_pat_|glpat-|AKIA[0-9A-Z]{12})/i;
/** A URL with userinfo (`https://user:pw@host`, `https://token@host`). */
const USERINFO_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s@]+@/i;
/** Full commit shas (sha-1, sha-256), which people deploy by: random-looking but not secret. */
const COMMIT_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/i;
/** Punctuation a word may be wrapped in (`"tok"`, `(tok)`, `tok,`). */
const WRAP = /^[\s"'`“”‘’(<[{]+|[\s"'`“”‘’)>\]},.;:!?]+$/g;

/**
 * Whether a word looks like a credential, whatever it is typed after: a well-known token prefix,
 * a URL with userinfo, or a long random-looking run (16+ letters and digits mixing both, or 24+
 * letters mixing cases), but a full commit sha. Heuristic: a ref such as `Release2024Build7Final`
 * is hidden too, which costs a word in a log, never a secret.
 */
export function looksLikeCredential(word: string): boolean {
  const w = word.replace(WRAP, "");
  if (CREDENTIAL_PREFIX.test(w) || USERINFO_URL.test(w)) return true;
  for (const run of w.match(/[A-Za-z0-9]{16,}/g) ?? []) {
    if (COMMIT_SHA.test(run)) continue;
    if (/[0-9]/.test(run) && /[A-Za-z]/.test(run)) return true;
    if (run.length >= 24 && /[a-z]/.test(run) && /[A-Z]/.test(run)) return true;
  }
  return false;
}

/**
 * Words of `text`, split on spaces, but a `KEY=` whose value opens a quote runs to its closing
 * quote (`MSG="two words"` is one word), or to the end when the quote never closes.
 */
function typedWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && isSpace(text[i])) i++;
    if (i >= text.length) break;
    let j = i;
    while (j < text.length && !isSpace(text[j])) {
      if (text[j] === "=" && text[j + 1] !== undefined && Object.hasOwn(QUOTES, text[j + 1]!)) {
        const closers = QUOTES[text[j + 1]!]!;
        let end = j + 2;
        while (end < text.length && !closers.includes(text[end]!)) end++;
        j = Math.min(end + 1, text.length);
        continue;
      }
      j++;
    }
    words.push(text.slice(i, j));
    i = j;
  }
  return words;
}

/**
 * A config key as people write them (`FOO`, `LOG_LEVEL`): shown bare after `config set` (`"FOO" has
 * no value`). Upper case only: a secret typed without its key is mixed (`s3cretNoKeyAAA1`), and
 * a long upper-case-and-digit one is caught by looksLikeCredential first.
 */
const UPPER_KEY = /^[A-Z_][A-Z0-9_]*$/;

/** A count or a port (`web=6`, `PORT=8080`): shorter than any secret a person may set (MIN_SECRET_LENGTH), so shown. */
const PLAIN_NUMBER = new RegExp(`^[+-]?[0-9]{1,${MIN_SECRET_LENGTH - 1}}$`);

/**
 * One word's mask. `config`: the word comes after `config set|secret|unset`, where every value is
 * hidden, numbers too; `tail`: after `config set|secret`, where only known names are shown.
 */
function maskWord(word: string, config: boolean, tail: boolean, known: ReadonlySet<string>, plainValues: boolean): Masked {
  const eq = word.indexOf("=");
  if (eq >= 0) {
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key !== "" && !KEY.test(key)) return { shown: HIDDEN, hidden: [word] };
    if (PLAIN_NUMBER.test(value) && !config) return { shown: word, hidden: [] };
    const unquoted = value.replace(/^["'“”‘’]|["'“”‘’]$/g, "");
    // A `config set` the grammar understood: its values are config, shown by `config` too, unless secret.
    if (plainValues && key !== "" && !isSecretKey(key) && !isSecretValue(unquoted) && !looksLikeCredential(unquoted)) return { shown: word, hidden: [] };
    return { shown: `${key}=${HIDDEN}`, hidden: value === "" ? [] : [value, unquoted] };
  }
  if (looksLikeCredential(word)) return { shown: HIDDEN, hidden: [word, word.replace(WRAP, "")] };
  if (tail && !known.has(word) && word.toLowerCase() !== "to" && !UPPER_KEY.test(word)) return { shown: HIDDEN, hidden: [word] };
  return { shown: word, hidden: [] };
}

function maskAll(text: string, names: TypedNames, plainValues = false): Masked[] {
  const known = new Set([...(names.apps ?? []), ...Object.values(names.envs ?? {}).flat()]);
  const words = typedWords(text);
  // Everything after `config set` / `config secret` is a value unless it is a name Raptor knows:
  // a secret typed without its KEY= is a bare word (`config secret hello local s3cret…`).
  const at = words.findIndex((w, i) => w.toLowerCase() === "config" && /^(set|secret|unset)$/i.test(words[i + 1] ?? ""));
  const bare = at >= 0 && words[at + 1]!.toLowerCase() !== "unset";
  return words.map((w, i) => maskWord(w, at >= 0 && i >= at + 2, bare && i >= at + 2, known, plainValues));
}

/**
 * The text as Raptor may keep or repeat it: every `KEY=VALUE` shows `KEY=…` (quoted values too; a
 * plain number such as `web=6` stays), every word after `config set|secret` but the app and
 * environment names `names` holds and upper-case key names (`FOO`) shows `…`, and so does every
 * word that looks like a credential
 * (`looksLikeCredential`). Spaces collapse to one; at most 500 characters.
 * `plainValues`: the text is a `config set` the grammar understood (not `config secret`): its
 * `KEY=VALUE`s stay as typed, as `config` shows them (issue 11: mask secrets, not config), except a
 * secret-looking key's, a URL with a password and a credential-looking value.
 */
export function maskTyped(text: string, names: TypedNames = {}, plainValues = false): string {
  const shown = maskAll(text, names, plainValues)
    .map((m) => m.shown)
    .join(" ");
  return shown.length > 500 ? `${shown.slice(0, 499)}…` : shown;
}

/**
 * What is kept of text that did not parse and named no deployment (raptor.log's `verb`, the chat
 * echo, the audit row): its first word when that is a plain word (`status`, `deploy!`: at most
 * 40 characters) and ` …` when something was left out, else `…` alone. Built on `maskTyped`, so a
 * first word holding `=` or a pasted token is never shown.
 */
export function unparsedWord(text: string, names: TypedNames = {}): string {
  const trimmed = text.trim();
  const first = maskAll(trimmed, names)[0]?.shown ?? "";
  if (first === "") return "";
  if (!/^[A-Za-z][A-Za-z0-9_-]*!?$/.test(first)) return HIDDEN;
  const plain = Array.from(first).slice(0, 40).join("");
  return plain.length < trimmed.length ? `${plain} …` : plain;
}

/**
 * A refusal reason the grammar wrote about `text`, as Raptor may keep or repeat it: every part of
 * `text` that `maskTyped` hides is hidden in it too (the grammar quotes the word it refused:
 * `"API_TOKEN=s3cret" is not a valid environment name`), case-insensitively, also as the grammar
 * cuts a long word (its first 40 characters); and so is any word of the reason that looks like a
 * credential. Short parts (under 8 characters) only as whole words, so `short` leaves `shorter`.
 */
export function maskReason(reason: string, text: string, names: TypedNames = {}): string {
  const parts = [...new Set(maskAll(text, names).flatMap((m) => m.hidden))].filter((p) => p.length > 0);
  const withCuts = [...parts, ...parts.filter((p) => Array.from(p).length > 40).map((p) => Array.from(p).slice(0, 40).join(""))];
  let out = reason;
  for (const part of withCuts.sort((a, b) => b.length - a.length)) {
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = part.length >= MIN_SECRET_LENGTH ? new RegExp(escaped, "gi") : new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "gi");
    out = out.replace(re, HIDDEN);
  }
  return out
    .split(/(\s+)/)
    .map((w) => (looksLikeCredential(w) ? HIDDEN : w))
    .join("")
    .replace(/…{2,}/g, HIDDEN);
}

/**
 * A refusal reason read back from an audit row with the summary stored beside it (`deploys`):
 * `maskReason`, and, when the summary had something hidden, every word the reason quotes that
 * the summary does not hold is hidden too. Rows written before this mask kept the grammar's
 * reason raw next to a masked summary (`"s3cret…" has no value` beside `config secret hello local …`).
 * Quoted punctuation (`"_"` in `keys use letters, digits and "_"`) is kept: it is the grammar's own hint.
 */
export function maskStoredReason(reason: string, summary: string, names: TypedNames = {}): string {
  const masked = maskReason(reason, summary, names);
  if (!summary.includes(HIDDEN)) return masked;
  // A quoted word with no letter or digit (`"_"`, `"="`) is Raptor's own wording, never a value (red team 2 N7).
  return masked.replace(/"([^"\s]+)"/g, (all, word: string) => (summary.includes(word) || word === HIDDEN || !/[\p{L}\p{N}]/u.test(word) ? all : `"${HIDDEN}"`));
}
