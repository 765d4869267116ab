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
