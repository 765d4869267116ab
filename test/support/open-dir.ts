import { chmodSync, mkdirSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Where tests make directories that must not sit under a world-writable one (a `working_copy: true`
 * app refuses /tmp and its children: lib/working-copy-place.ts): `.raptor-test/` in the checkout
 * (git-ignored), 0755.
 */
export const OPEN_TEST_ROOT = resolve(import.meta.dirname, "../../.raptor-test");

/** A new directory others may read (0755) under OPEN_TEST_ROOT, as a checkout under /srv would be. The caller removes it. */
export function openTestDir(prefix: string): string {
  mkdirSync(OPEN_TEST_ROOT, { recursive: true, mode: 0o755 });
  const d = mkdtempSync(join(OPEN_TEST_ROOT, prefix));
  chmodSync(d, 0o755);
  return d;
}
