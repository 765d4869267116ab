import type { ErrorCode } from "./error-codes.ts";
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Config values at rest: with `RAPTOR_SECRET_KEY` set, values are sealed with AES-256-GCM
 * (node:crypto; authenticated, so a changed row fails to open instead of decrypting to garbage).
 * The 256-bit key is derived from RAPTOR_SECRET_KEY with HKDF-SHA256. A sealed value is text:
 * `enc:v1:` + base64(12-byte IV | 16-byte tag | ciphertext). Values stored before a key was set
 * stay readable (they have no prefix); without the key a sealed value cannot be read and says so.
 * A database once opened with the key is sealed for good: a process without it, or with another
 * key, is refused at start-up before it writes (db/queries/seal-mark.ts `checkSealing`).
 */
export const SEALED_PREFIX = "enc:v1:";

/** A sealed value that cannot be opened: wrong or missing key, or a changed row. */
export class SecretKeyError extends Error {
  readonly code = "internal" satisfies ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = "SecretKeyError";
  }
}

function keyFrom(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "raptor", "config-at-rest-v1", 32));
}

let cached: { secret: string; key: Buffer } | undefined;
function currentKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  const secret = env.RAPTOR_SECRET_KEY;
  if (!secret) return undefined;
  if (cached?.secret !== secret) cached = { secret, key: keyFrom(secret) };
  return cached.key;
}

/** Seals `plain` when RAPTOR_SECRET_KEY is set; returns it unchanged otherwise. */
export function seal(plain: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = currentKey(env);
  if (!key) return plain;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

/** Opens a value made by `seal`; text without the prefix is returned as it is. */
export function open(stored: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!stored.startsWith(SEALED_PREFIX)) return stored;
  const key = currentKey(env);
  if (!key) throw new SecretKeyError("config values in the database are encrypted, but RAPTOR_SECRET_KEY is not set: set it to the key they were written with");
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), "base64");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretKeyError("a config value in the database cannot be decrypted with RAPTOR_SECRET_KEY (a different key, or a changed row)");
  }
}
