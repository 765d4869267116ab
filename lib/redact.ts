/**
 * The one text redactor: every secret of 4 characters or more becomes `[REDACTED]`, longest
 * first (so a secret containing another is masked whole). Short values are left alone: masking
 * "1" everywhere would hide more than it protects.
 */
export function makeRedactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join("[REDACTED]");
    return out;
  };
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
