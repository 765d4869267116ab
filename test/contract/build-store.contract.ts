import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { BuildStore } from "../../engine/builds/store.ts";

/** Two stores over the same shared storage, as two workers with separate data directories see it. */
export interface BuildStoreBed {
  /** The worker that builds. */
  a: BuildStore;
  /** Another worker, on another machine: it shares only the store. */
  b: BuildStore;
  close(): Promise<void>;
}

/**
 * What every build store must do (engine/builds/store.ts): what one worker puts, another fetches
 * byte for byte; an unknown build is absent, not an error; remove deletes for everyone and says
 * whether there was anything; put of the same id again replaces it.
 */
export function buildStoreContract(make: () => Promise<BuildStoreBed>): void {
  let bed: BuildStoreBed;
  let scratch: string;
  beforeAll(async () => {
    bed = await make();
    scratch = await mkdtemp(join(tmpdir(), "raptor-store-"));
  });
  afterAll(async () => {
    await bed?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A fake tarball of `size` random bytes, and its md5. */
  async function tarball(size = 70_000): Promise<{ file: string; bytes: Buffer; md5: string }> {
    const bytes = randomBytes(size);
    const file = join(scratch, `${randomUUID()}.tar.gz`);
    await writeFile(file, bytes);
    return { file, bytes, md5: createHash("md5").update(bytes).digest("hex") };
  }

  it("what one worker puts, another fetches byte for byte", async () => {
    const id = randomUUID();
    const t = await tarball();
    const where = await bed.a.put(id, t.file);
    expect(where).toContain(id);
    expect(await bed.a.has(id)).toBe(true);
    expect(await bed.b.has(id)).toBe(true);
    const got = await bed.b.fetch(id, t.md5);
    expect(got).toBeDefined();
    expect((await readFile(got!)).equals(t.bytes)).toBe(true);
    // A second fetch finds it at once (the same file).
    expect(await bed.b.fetch(id, t.md5)).toBe(got);
  });

  it("a build the store never had is absent, not an error", async () => {
    const id = randomUUID();
    expect(await bed.a.has(id)).toBe(false);
    expect(await bed.b.fetch(id, "0".repeat(32))).toBeUndefined();
    expect(await bed.b.remove(id)).toBe(false);
  });

  it("remove deletes it for every worker and says it was there", async () => {
    const id = randomUUID();
    const t = await tarball(1_000);
    await bed.a.put(id, t.file);
    const fetched = await bed.b.fetch(id, t.md5);
    expect(await bed.a.remove(id)).toBe(true);
    expect(await bed.a.has(id)).toBe(false);
    expect(await bed.b.has(id)).toBe(false);
    // The worker that removed it keeps no copy either.
    expect(await bed.a.fetch(id, t.md5)).toBeUndefined();
    expect(await bed.a.remove(id)).toBe(false);
    expect(fetched).toBeDefined();
  });

  it("put of the same build again replaces it", async () => {
    const id = randomUUID();
    const first = await tarball(500);
    await bed.a.put(id, first.file);
    const second = await tarball(800);
    await bed.a.put(id, second.file);
    const got = await bed.b.fetch(id, second.md5);
    expect((await readFile(got!)).equals(second.bytes)).toBe(true);
    expect(existsSync(second.file)).toBe(false);
  });
}
