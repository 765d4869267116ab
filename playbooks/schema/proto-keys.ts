import type { PathKey } from "./issues.ts";

/**
 * `__proto__` anywhere in a playbook (issue 8 red team 4): `env: { __proto__: { A: b } }` parsed,
 * then vanished without a word (an object built by assignment takes it as its prototype, not as
 * a key). Refused where it is written instead, whatever section it is in.
 */
export function prototypeKeys(data: unknown, at: PathKey[] = []): { path: PathKey[]; message: string }[] {
  if (Array.isArray(data)) return data.flatMap((v, i) => prototypeKeys(v, [...at, i]));
  if (data === null || typeof data !== "object") return [];
  const out: { path: PathKey[]; message: string }[] = [];
  for (const key of Object.keys(data)) {
    const path = [...at, key];
    if (key === "__proto__") {
      const where = at.length ? ` (in ${at.join(".")})` : "";
      out.push({ path, message: `"__proto__" cannot be a key${where}: JavaScript gives that name a meaning of its own, and its value would be dropped without a word; use another name` });
      continue;
    }
    out.push(...prototypeKeys((data as Record<string, unknown>)[key], path));
  }
  return out;
}
