import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * RAPTOR_DATA is Raptor's alone (issue 8, red-team finding 2): it holds the PGlite database (in
 * plain text without RAPTOR_SECRET_KEY), raptor.log, build tarballs, git mirrors and, for
 * `make run`, its Redis socket and supervisord's config. Procs run on the same machine as other
 * users (a `transport: local` squad, the demo), so the directory is 0700 and the files Raptor
 * makes there directly are 0600. Procs' own directories live outside it.
 */

/** Creates `dir` (and parents) if needed and makes it 0700, whatever it was before. */
export function keepPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Makes `file` exist with mode 0600 (created so, or an older 0644 one narrowed), its directory
 * created if missing, before a writer that cannot set the mode of an existing file opens it.
 */
export function privateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
}

/**
 * The unix socket of the Redis `make run` starts for Raptor (scripts/demo-redis.sh), when it is
 * there: `<dataDir>/redis/redis.sock`. ioredis reads a path as a socket.
 */
export function demoRedisSocket(dataDir: string): string | undefined {
  const sock = join(dataDir, "redis", "redis.sock");
  try {
    return existsSync(sock) && statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The password `make run` gave the demo's supervisord (scripts/demo.sh, `<dataDir>/supervisord/password`,
 * 0600) when RAPTOR_SUPERVISOR_PASSWORD was not set, or undefined. It becomes that variable, so
 * the example playbook's `${RAPTOR_SUPERVISOR_PASSWORD:-raptor}` (a secret: masked) finds it.
 */
export function demoSupervisorPassword(dataDir: string): string | undefined {
  try {
    const text = readFileSync(join(dataDir, "supervisord", "password"), "utf8").trim();
    return text === "" ? undefined : text;
  } catch {
    return undefined;
  }
}
