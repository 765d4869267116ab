import { isPlainWord } from "./vocabulary.ts";

/**
 * The shortest secret a person can set in chat, in characters. `config secret` and `config set`
 * under a secret-looking key refuse shorter values (`shortSecretProblem`), and the redactor leaves
 * shorter chat-set secrets alone (`maskableChatSecrets`: values stored before the rule): a
 * "secret" such as `root` or `local` would otherwise blank actors, app and environment names and
 * Raptor's own words everywhere (issue 8 red team 2; issue 11 item 1: identifiers are never masked).
 * The playbook's secrets come from operators and keep makeRedactor's own floor (4).
 */
export const MIN_SECRET_LENGTH = 8;

/**
 * Chat-set secret values (config_vars, known_secrets, a pending change) the redactor masks: those
 * of MIN_SECRET_LENGTH or more that are not plain words (`isPlainWord`: values stored before
 * `plainWordProblem` refused them, red team 2 N4: `NOTE2=succeeded` blanked every `deploys` outcome).
 */
export function maskableChatSecrets(values: readonly string[]): string[] {
  return values.filter((v) => v.length >= MIN_SECRET_LENGTH && !isPlainWord(v));
}

/**
 * The one text redactor: every secret of 4 characters or more becomes `[REDACTED]`, longest
 * first (so a secret containing another is masked whole), and so do its common encodings
 * (`encodedForms`: base64, hex, URL-encoding). Short values are left alone: masking "1"
 * everywhere would hide more than it protects.
 *
 * `identifiers` (people's names, apps, environments, squads, hosts, proc types, channels) are
 * never masked where they stand as a whole word (no letter or digit either side): a secret whose
 * value equals a name would otherwise erase that name from every answer and log line (red team
 * M4: `config secret hello local NOTE=mallory1` made mallory1 `[REDACTED]` in `deploys`,
 * `status` and raptor.log). The same value inside a longer word is still masked.
 */
export function makeRedactor(secrets: Iterable<string>, identifiers: Iterable<string> = []): (text: string) => string {
  const plain = [...secrets].filter((s) => s.length >= 4);
  const list = [...new Set([...plain, ...plain.flatMap(encodedForms)])].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  const names = new Set(identifiers);
  return (text) => {
    let out = text;
    for (const s of list) {
      if (!out.includes(s)) continue;
      const pieces = out.split(s);
      out = names.has(s) ? pieces.reduce((acc, piece) => acc + (wordEdge(acc.at(-1)) && wordEdge(piece[0]) ? s : "[REDACTED]") + piece) : pieces.join("[REDACTED]");
    }
    return out;
  };
}

/** Whether a character next to a name leaves it a whole word: none, or not a letter or digit. */
function wordEdge(ch: string | undefined): boolean {
  return ch === undefined || !/[\p{L}\p{N}]/u.test(ch);
}

/**
 * Config keys whose values are secrets by their name: API_TOKEN, DB_PASSWORD, STRIPE_SECRET,
 * AWS_SECRET_ACCESS_KEY, GCP_CREDENTIALS, PRIVATE_KEY, AUTH_HEADER, SENTRY_DSN, COOKIE_SALT, ...
 * Matched on `_`-separated words (so `MONKEY` or `KEYBOARD_LAYOUT` are not secrets).
 */
const SECRET_WORDS = /(^|_)(TOKENS?|SECRETS?|PASSWORDS?|PASSWD|PASS|PWD|KEYS?|APIKEY|CREDENTIALS?|CREDS?|PRIVATE|AUTH|AUTHORIZATION|CERT|DSN|SALT|SIGNATURE|COOKIE|SESSION|OTP|PIN)(_|$)/;

/** Whether a config key's name says its value is a secret (case-insensitive). */
export function isSecretKey(key: string): boolean {
  return SECRET_WORDS.test(key.toUpperCase());
}

/**
 * Why a value cannot be set as a secret, or undefined: a secret (marked with `config secret`, or
 * under a secret-looking key) must have at least MIN_SECRET_LENGTH characters. `verb` starts the
 * message (`config secret`).
 */
export function shortSecretProblem(verb: string, key: string, value: string, marked: boolean): string | undefined {
  if (!(marked || isSecretKey(key))) return undefined;
  const why = marked ? "a `config secret` value" : `${key} looks like a secret, and its value`;
  if (value.length >= MIN_SECRET_LENGTH) return plainWordProblem(verb, key, value, why);
  return `${verb}: ${why} must have at least ${MIN_SECRET_LENGTH} characters (${key} has ${value.length}): a shorter one is too easy to guess, and masking it would hide ordinary words. Use a real secret, or \`config set\` under a name that is not secret-looking.`;
}

/**
 * Why a secret's value is refused for being an ordinary word (`isPlainWord`: letters only in one
 * case, or Raptor's own words such as `succeeded` or `deployment.failed`), or undefined. Masking it
 * would rewrite that word in every app's output and in what Raptor says about every app (red team 2
 * N4). The message does not repeat the value.
 */
function plainWordProblem(verb: string, key: string, value: string, why: string): string | undefined {
  if (!isPlainWord(value)) return undefined;
  return `${verb}: ${why} must not be an ordinary word (${key}'s value is letters only, or one of Raptor's own words: a status, step, event or verb): a word is easy to guess, and masking it would hide that word in every app's output and in \`deploys\`. Use a real secret (mix in digits or symbols), or \`config set\` under a name that is not secret-looking.`;
}

/** A URL with a password in it (`postgres://user:pw@db/app`): the whole value is a secret. */
export function isSecretValue(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(value);
}

/**
 * The secret values of a config map: those under a secret-looking key, those that carry a
 * password, and those whose key a person marked secret (`config secret ...`).
 */
export function secretValues(config: Readonly<Record<string, string>>, marked: ReadonlySet<string> = new Set()): string[] {
  return Object.entries(config)
    .filter(([k, v]) => marked.has(k) || isSecretKey(k) || isSecretValue(v))
    .map(([, v]) => v);
}

/** Encoded forms shorter than this are not masked: too likely to occur by chance. */
const MIN_ENCODED = 8;

/**
 * What a secret looks like when a program prints it encoded, for the redactor to mask too:
 * - hex of its UTF-8 bytes, lower and upper case;
 * - URL-encoding (`encodeURIComponent`), when that differs from the secret;
 * - base64, standard and URL-safe alphabets (RFC 4648 §4, §5), at each of the three byte
 *   alignments the secret can have inside a longer encoded text (`Basic base64(user:secret)`):
 *   only the characters that depend on the secret's bytes alone, so the form is found whatever
 *   comes before or after it.
 * Forms under MIN_ENCODED characters are left out. Not covered: a secret split across lines or
 * chunks, other encodings (base32, gzip, encryption), or a transformed secret.
 */
export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = [bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  const url = encodeURIComponent(secret);
  if (url !== secret) forms.push(url);
  for (let a = 0; a < 3; a++) {
    const b64 = Buffer.concat([Buffer.alloc(a), bytes]).toString("base64");
    // A base64 character carries 6 bits: skip those holding bits of the `a` bytes before the
    // secret, stop before those holding bits of what follows it.
    const core = b64.slice(Math.ceil((a * 8) / 6), Math.floor(((a + bytes.length) * 8) / 6));
    forms.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...new Set(forms)].filter((f) => f.length >= MIN_ENCODED && f !== secret);
}
