import { describe, expect, it } from "vitest";
import { redactEvent } from "../../engine/redact.ts";
import { isSecretKey, isSecretValue, makeRedactor, secretValues } from "../../lib/redact.ts";

/** Issue 11 item 1: secrets are values by source, key or mark; identifiers are never masked. */
describe("which config values are secrets", () => {
  it.each([
    ["API_TOKEN", true],
    ["DB_PASSWORD", true],
    ["STRIPE_SECRET", true],
    ["AWS_SECRET_ACCESS_KEY", true],
    ["GCP_CREDENTIALS", true],
    ["PRIVATE_KEY", true],
    ["SENTRY_DSN", true],
    ["api_key", true],
    ["APP_ENV", false],
    ["DEBUG", false],
    ["GIT_BRANCH", false],
    ["MONKEY", false],
    ["KEYBOARD_LAYOUT", false],
    ["GREETING", false],
  ])("%s -> %s", (key, secret) => expect(isSecretKey(key)).toBe(secret));

  it("a URL with a password is a secret, one without is not", () => {
    expect(isSecretValue("postgres://web:pw@db/web")).toBe(true);
    expect(isSecretValue("https://example.com/a@b")).toBe(false);
    expect(isSecretValue("redis://db:6379")).toBe(false);
  });

  it("collects the values under secret keys, carrying passwords, or marked", () => {
    const config = { APP_ENV: "local", DEBUG: "true", GIT_BRANCH: "main", API_TOKEN: "tok-123", MOTD: "hi there", DB: "postgres://u:p@h/d" };
    expect(secretValues(config, new Set(["MOTD"])).sort()).toEqual(["hi there", "postgres://u:p@h/d", "tok-123"]);
  });
});

describe("redactEvent: free text masked, identifiers never", () => {
  const redact = makeRedactor(["local", "s3cr3t-value"]);
  it("keeps app, env, hosts and release numbers; masks summaries and messages", () => {
    const queued = redactEvent(
      { type: "deployment.queued", kind: "deploy", app: "hello", env: "local", requestedBy: "U1", origin: "terminal", summary: "deploy hello local s3cr3t-value", steps: ["resolve"], behind: [] },
      redact,
    );
    expect(queued).toMatchObject({ app: "hello", env: "local", summary: "deploy hello [REDACTED] [REDACTED]" });
    const done = redactEvent({ type: "deployment.succeeded", release: 3, hosts: [{ host: "local", procs: ["web:5000"] }], durationMs: 1 }, redact);
    expect(done).toEqual({ type: "deployment.succeeded", release: 3, hosts: [{ host: "local", procs: ["web:5000"] }], durationMs: 1 });
    expect(redactEvent({ type: "step.log", step: "build", title: "log", text: "token s3cr3t-value" }, redact)).toMatchObject({ text: "token [REDACTED]" });
  });
});
