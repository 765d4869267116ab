import { eq, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { sealMark } from "../schema/index.ts";
import { open, seal, SecretKeyError, SEALED_PREFIX } from "../../lib/secret-box.ts";

/** The text sealed into the `seal_mark` row; opening it proves the key is the database's. */
const CHECK = "raptor seal check v1";

const NOT_SET =
  "this database's config values are encrypted (a Raptor with RAPTOR_SECRET_KEY has run on it), but RAPTOR_SECRET_KEY is not set here: set RAPTOR_SECRET_KEY to the same key and start again (nothing was written)";
const OTHER_KEY =
  "RAPTOR_SECRET_KEY is not the key this database's config values are encrypted with: set RAPTOR_SECRET_KEY to the key the running Raptor (e.g. make run) uses and start again (nothing was written)";

/**
 * Makes secrets at rest independent of which process writes them. Run at start-up, before the
 * process writes anything. With RAPTOR_SECRET_KEY set: the database's seal (`seal_mark`) must open
 * with it, or is written now. Without: a sealed database refuses the process. A database sealed
 * before the seal row existed is recognised by any sealed value in it.
 * @throws SecretKeyError (one line for the operator) when the key is missing or is another one.
 */
export async function checkSealing(db: Db, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [mark] = await db.select({ check: sealMark.check }).from(sealMark).where(eq(sealMark.id, 1));
  const stored = mark?.check ?? (await anySealedValue(db));
  if (stored !== undefined) {
    if (!env.RAPTOR_SECRET_KEY) throw new SecretKeyError(NOT_SET);
    let opened: string;
    try {
      opened = open(stored, env);
    } catch {
      throw new SecretKeyError(OTHER_KEY);
    }
    if (mark && opened !== CHECK) throw new SecretKeyError(OTHER_KEY);
  }
  if (mark || !env.RAPTOR_SECRET_KEY) return;
  await db.insert(sealMark).values({ id: 1, check: seal(CHECK, env) }).onConflictDoNothing();
  // Read back: of two processes with different keys starting at once, the one whose row lost
  // is refused here.
  await checkSealing(db, env);
}

/** One sealed value from the tables that hold them (databases sealed before `seal_mark`). */
async function anySealedValue(db: Db): Promise<string | undefined> {
  const like = `${SEALED_PREFIX}%`;
  const rows = await db.execute<{ v: string }>(sql`
    (select value as v from config_vars where value like ${like} limit 1)
    union all (select value from known_secrets where value like ${like} limit 1)
    union all (select config->>'$sealed' from releases where config->>'$sealed' is not null limit 1)
    union all (select params->>'$sealed' from deployments where params->>'$sealed' is not null limit 1)
    limit 1`);
  const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: { v: string }[] }).rows;
  return list[0]?.v;
}
