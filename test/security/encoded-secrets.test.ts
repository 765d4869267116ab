import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodedForms, makeRedactor } from "../../lib/redact.ts";

/**
 * Red-team finding 9 (issue 8 §4): a secret printed base64- or hex-encoded (a build that logs an
 * `Authorization: Basic ...` header, a hexdump, a URL with the token encoded) was not masked:
 * the redactor matched the exact text only. Now its encodings are masked too.
 */
const SECRET = "s3cr3t-T0ken/with+chars=";
const redact = makeRedactor([SECRET]);

describe("encoded secrets are masked", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const cases: [string, string][] = [
    ["base64 of the secret alone", b64(SECRET)],
    ["base64url of the secret alone", Buffer.from(SECRET).toString("base64url")],
    ["HTTP Basic auth (user:secret, the secret at an offset of 1 byte mod 3)", `Authorization: Basic ${b64(`ann:${SECRET}`)}`],
    ["the secret at an offset of 2 mod 3, text after it", `data=${b64(`ab${SECRET}xyz`)}`],
    ["offset 0 inside a longer base64 text", b64(`abc${SECRET}trailing text`)],
    ["hex", `dump: ${Buffer.from(SECRET).toString("hex")}`],
    ["HEX", Buffer.from(SECRET).toString("hex").toUpperCase()],
    ["URL-encoded", `https://x.example/cb?token=${encodeURIComponent(SECRET)}&a=1`],
    ["plain, as before", `token is ${SECRET}`],
  ];
  it.each(cases)("%s", (_, text) => {
    const out = redact(text);
    expect(out).toContain("[REDACTED]");
    // What is left cannot be decoded back to the secret.
    for (const decoded of [Buffer.from(out.replace(/.*(Basic |data=)/, ""), "base64").toString(), out]) expect(decoded).not.toContain(SECRET);
    for (const f of encodedForms(SECRET)) expect(out).not.toContain(f);
  });

  it("leaves text without the secret alone, and makes no short forms of a short secret", () => {
    const text = `Authorization: Basic ${b64("ann:another-password")} ${createHash("sha256").update("x").digest("hex")}`;
    expect(redact(text)).toBe(text);
    expect(encodedForms("abcd").every((f) => f.length >= 8)).toBe(true);
  });
});
