import { createServer, type IncomingMessage } from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnrecoverableError } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { allKnownSecrets, rememberSecrets } from "../../db/queries/known-secrets.ts";
import { configVars, deployments, releases } from "../../db/schema/index.ts";
import { redactedTail } from "../../bot/answers/fleet.ts";
import { mirrorPath, resolveRef, splitCredentials } from "../../engine/builds/git.ts";
import type { EngineDeps } from "../../engine/context.ts";
import { redactError, redactorFor } from "../../engine/redact.ts";
import { makeRedactor } from "../../lib/redact.ts";
import { open, seal, SEALED_PREFIX } from "../../lib/secret-box.ts";
import { freshDb } from "../support/db.ts";

const SECRET = "sk_live_planted_4f9a2c71e0";

describe("config values at rest (RAPTOR_SECRET_KEY, AES-256-GCM)", () => {
  let h: DbHandle & { url: string };
  const saved = process.env.RAPTOR_SECRET_KEY;
  beforeAll(async () => {
    h = await freshDb();
    process.env.RAPTOR_SECRET_KEY = "test-key-for-config-at-rest";
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.RAPTOR_SECRET_KEY;
    else process.env.RAPTOR_SECRET_KEY = saved;
    await h?.close();
  });

  it("stores config set values, secrets asked for, release configs and deployment params sealed; reads them back plain", async () => {
    await h.db.insert(configVars).values({ app: "web", env: "production", key: "STRIPE_KEY", value: SECRET, updatedBy: "U1" });
    await h.db.insert(deployments).values({ id: "d-sealed", kind: "config", app: "web", env: "production", params: { vars: { STRIPE_KEY: SECRET } }, requestedBy: "U1" });
    await rememberSecrets(h.db, "web", "production", { STRIPE_KEY: SECRET });
    expect(await allKnownSecrets(h.db)).toEqual([SECRET]);
    const [row] = await h.db.select().from(configVars);
    expect(row!.value).toBe(SECRET);
    const [d] = await h.db.select().from(deployments);
    expect(d!.params.vars).toEqual({ STRIPE_KEY: SECRET });

    // What Postgres holds: no plaintext anywhere in the rows.
    const sql = postgres(h.url, { max: 1 });
    try {
      const [cv] = await sql`select value from config_vars`;
      expect(cv!.value).toMatch(new RegExp(`^${SEALED_PREFIX}`));
      const [ks] = await sql`select value from known_secrets`;
      expect(ks!.value).toMatch(new RegExp(`^${SEALED_PREFIX}`));
      const [dp] = await sql`select params::text as p from deployments`;
      expect(dp!.p).not.toContain(SECRET);
      expect(dp!.p).toContain("$sealed");
    } finally {
      await sql.end();
    }
    expect(releases.config).toBeDefined();
  });

  it("refuses to open a sealed value without the key, or with another key, and says why", () => {
    const sealed = seal(SECRET, { RAPTOR_SECRET_KEY: "k1" });
    expect(sealed).not.toContain(SECRET);
    expect(open(sealed, { RAPTOR_SECRET_KEY: "k1" })).toBe(SECRET);
    expect(() => open(sealed, {})).toThrow(/RAPTOR_SECRET_KEY is not set/);
    expect(() => open(sealed, { RAPTOR_SECRET_KEY: "k2" })).toThrow(/cannot be decrypted/);
    // Tampering is detected (GCM's tag), not decrypted to garbage.
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64");
    raw[raw.length - 1]! ^= 1;
    expect(() => open(SEALED_PREFIX + raw.toString("base64"), { RAPTOR_SECRET_KEY: "k1" })).toThrow(/cannot be decrypted/);
    // Without a key nothing is sealed, and old plain rows still read.
    expect(seal("plain", {})).toBe("plain");
    expect(open("plain", { RAPTOR_SECRET_KEY: "k1" })).toBe("plain");
  });
});

describe("redaction of stored and shown text", () => {
  it("`logs` redacts before cutting the tail: a window starting inside a secret shows none of it", () => {
    const redact = makeRedactor([SECRET]);
    const log = `line one\ntoken=${SECRET}\nline three\n`;
    // The byte window starts in the middle of the secret: `..._4f9a2c71e0` alone is not masked by
    // any redactor, so that partial line must go.
    const window = log.slice(log.indexOf(SECRET) + 10);
    const shown = redactedTail(window, Buffer.byteLength(window), 5, redact);
    expect(shown).not.toContain(SECRET.slice(10));
    expect(shown).toContain("line three");
    expect(redactedTail(log, 10_000, 5, redact)).toContain("token=[REDACTED]");
  });

  it("an error kept by BullMQ is redacted in message, stack and fields, and keeps its class", () => {
    const err = Object.assign(new UnrecoverableError(`release hook failed: curl -H ${SECRET}`), { code: "hook_failed", output: `Authorization: ${SECRET}` });
    const clean = redactError(err, makeRedactor([SECRET]));
    expect(clean).toBeInstanceOf(UnrecoverableError);
    expect(clean.message).toBe("release hook failed: curl -H [REDACTED]");
    expect(clean.stack).not.toContain(SECRET);
    expect((clean as unknown as { output: string }).output).toBe("Authorization: [REDACTED]");
    expect((clean as unknown as { code: string }).code).toBe("hook_failed");
  });
});

/**
 * Issue 8 red team 2: `config secret evil local X_TOKEN=root` (stored before the 8-character
 * minimum) made every message read `put in place by [REDACTED]`, even after unset.
 */
describe("short chat-set secrets already stored", () => {
  let h: DbHandle & { url: string };
  beforeAll(async () => {
    h = await freshDb();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("do not mask actors, app and environment names or Raptor's words; real secrets still are", async () => {
    await rememberSecrets(h.db, "evil", "local", { X_TOKEN: "root" });
    await h.db.insert(configVars).values([
      { app: "evil", env: "local", key: "NOTE", value: "local", secret: true, updatedBy: "root" },
      { app: "web", env: "prod", key: "API_TOKEN", value: SECRET, updatedBy: "U1" },
    ]);
    const redact = await redactorFor({ db: h.db, playbook: { secrets: [] } } as unknown as EngineDeps);
    for (const text of ["put in place by root", "who deployed hello local", "procs never run as root"]) expect(redact(text)).toBe(text);
    expect(redact(`token ${SECRET}`)).toBe("token [REDACTED]");
  });
});

describe("git credentials", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "raptor-git-cred-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("splits user and token out of a repo URL", () => {
    expect(splitCredentials(`https://deploy:${SECRET}@git.example.com/acme/web.git`)).toEqual({ url: "https://git.example.com/acme/web.git", username: "deploy", password: SECRET });
    expect(splitCredentials("/srv/repos/web")).toEqual({ url: "/srv/repos/web" });
    expect(splitCredentials("git@github.com:acme/web.git")).toEqual({ url: "git@github.com:acme/web.git" });
  });

  it("reach git through GIT_ASKPASS: the server gets them, git's command line, the mirror config and the error do not", async () => {
    const seen: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      seen.push(req.headers.authorization ?? "none");
      if (!req.headers.authorization) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const repo = `http://deploy:${SECRET}@127.0.0.1:${port}/acme/web.git`;
    let message = "";
    try {
      await resolveRef(repo, "main", { dataDir });
    } catch (err) {
      message = (err as Error).message;
    } finally {
      server.close();
    }
    expect(seen).toContain(`Basic ${Buffer.from(`deploy:${SECRET}`).toString("base64")}`);
    expect(message).not.toBe("");
    expect(message).not.toContain(SECRET);
    expect(message).toContain(`http://127.0.0.1:${port}/acme/web.git`);
    const askpass = await readFile(join(dataDir, "cache", "git", "askpass.sh"), "utf8");
    expect(askpass).not.toContain(SECRET);
    expect(mirrorPath(repo, { dataDir })).not.toContain(SECRET);
  });
});
