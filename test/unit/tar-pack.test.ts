import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packTar } from "../../runners/tar-pack.ts";

describe("packTar", () => {
  it("writes an archive GNU tar unpacks byte for byte, with each file's mode", () => {
    const dir = mkdtempSync(join(tmpdir(), "raptor-tar-"));
    try {
      const big = Buffer.alloc(1500, 0xfe); // spans blocks, not text
      const archive = packTar([
        { path: "0/env", mode: 0o600, body: "export A='it'\\''s'\nexport B='\u00e9\n'\n" },
        { path: "0/run.sh", mode: 0o700, body: "#!/bin/sh\n" },
        { path: "1/blob", mode: 0o644, body: big },
        { path: "1/empty", mode: 0o600, body: "" },
      ]);
      expect(archive.length % 512).toBe(0);
      execFileSync("tar", ["-xf", "-", "-C", dir], { input: archive });
      expect(readFileSync(join(dir, "0/env"), "utf8")).toBe("export A='it'\\''s'\nexport B='\u00e9\n'\n");
      expect(statSync(join(dir, "0/env")).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "0/run.sh")).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(dir, "1/blob")).equals(big)).toBe(true);
      expect(readFileSync(join(dir, "1/empty"), "utf8")).toBe("");
      expect(execFileSync("tar", ["-tf", "-"], { input: archive, encoding: "utf8" }).split("\n").filter(Boolean)).toEqual(["0/env", "0/run.sh", "1/blob", "1/empty"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([["/etc/passwd"], ["../x"], ["a/../../b"], [""], ["x".repeat(101)]])("refuses the path %j", (path) => {
    expect(() => packTar([{ path, mode: 0o600, body: "" }])).toThrow(/must be relative, without "\.\.", at most 100 bytes/);
  });
});
