import { isSecretKey, isSecretValue, makeRedactor } from "../../lib/redact.ts";
import { MASK } from "./types.ts";

/**
 * How a config value may be shown: `[REDACTED]` when the secrets rules say it is one (a key that
 * looks secret, a URL with a password, a key marked with `config secret`), else the value with
 * every known secret (`secrets`: the playbook's substituted values) masked inside it. The same
 * rules `config <app> <env>` shows values by.
 */
export function valueShower(marked: ReadonlySet<string>, secrets: readonly string[]): (key: string, value: string) => string {
  const redact = makeRedactor(secrets);
  return (key, value) => (marked.has(key) || isSecretKey(key) || isSecretValue(value) ? MASK : redact(value));
}
