import type { Db } from "../client.ts";
import { knownSecrets } from "../schema/index.ts";

/** Remembers secret values asked for on app+env (see the `known_secrets` table). No-op for none. */
export async function rememberSecrets(db: Db, app: string, env: string, secrets: Readonly<Record<string, string>>): Promise<void> {
  const rows = Object.entries(secrets).map(([key, value]) => ({ app, env, key, value }));
  if (rows.length) await db.insert(knownSecrets).values(rows);
}

/** Every secret value ever asked for, of every app+env (the redactor masks them all). */
export async function allKnownSecrets(db: Db): Promise<string[]> {
  return (await db.select({ value: knownSecrets.value }).from(knownSecrets)).map((r) => r.value);
}
