import { describe, expect, it } from "vitest";
import { verifyHostKey } from "../../runners/known-hosts.ts";

describe("verifyHostKey", () => {
  const blob = (b64: string) => Buffer.from(b64, "base64");
  const K1 = "AAAAC3NzaC1lZDI1NTE5AAAAIKey1111111111111111111111111111111111111";
  const K2 = "AAAAC3NzaC1lZDI1NTE5AAAAIKey2222222222222222222222222222222222222";

  it.each<[string, string, number, string, string]>([
    ["[h1]:2222 ssh-ed25519 " + K1, "h1", 2222, K1, "ok"],
    ["[h1]:2222 ssh-ed25519 " + K1, "h1", 2222, K2, "changed"],
    ["[h1]:2222 ssh-ed25519 " + K1, "h1", 22, K1, "unknown"],
    ["h1 ssh-ed25519 " + K1, "h1", 22, K1, "ok"],
    ["h1 ssh-ed25519 " + K1, "h1", 2222, K1, "unknown"],
    ["h0,h1,h2 ssh-ed25519 " + K1, "h1", 22, K1, "ok"],
    ["*.internal,!bad.internal ssh-ed25519 " + K1, "app1.internal", 22, K1, "ok"],
    ["*.internal,!bad.internal ssh-ed25519 " + K1, "bad.internal", 22, K1, "unknown"],
    ["# comment\n\nh1 ssh-ed25519 " + K2 + "\nh1 ssh-ed25519 " + K1, "h1", 22, K1, "ok"],
    ["@revoked h1 ssh-ed25519 " + K1 + "\nh1 ssh-ed25519 " + K1, "h1", 22, K1, "revoked"],
    ["@cert-authority *.internal ssh-ed25519 " + K1, "h1.internal", 22, K1, "unknown"],
  ])("%j for %s:%d", (text, host, port, key, verdict) => {
    expect(verifyHostKey(text, host, port, blob(key))).toBe(verdict);
  });
});
