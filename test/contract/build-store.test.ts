import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildStoreFromEnv, parseBuildStore } from "../../engine/builds/store-config.ts";
import { DirectoryBuildStore } from "../../engine/builds/store-dir.ts";
import { S3BuildStore } from "../../engine/builds/store-s3.ts";
import { startS3Server } from "../support/s3-server.ts";
import { buildStoreContract } from "./build-store.contract.ts";

describe("DirectoryBuildStore (one directory both workers mount)", () => {
  buildStoreContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-dirstore-"));
    return {
      a: new DirectoryBuildStore(dir),
      b: new DirectoryBuildStore(dir),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  });
});

describe("S3BuildStore against s3rver on loopback (each worker with its own data directory)", () => {
  buildStoreContract(async () => {
    const s3 = await startS3Server();
    const dataA = await mkdtemp(join(tmpdir(), "raptor-worker-a-"));
    const dataB = await mkdtemp(join(tmpdir(), "raptor-worker-b-"));
    const store = (dataDir: string) =>
      new S3BuildStore({ bucket: s3.bucket, prefix: "team/builds", cacheDir: join(dataDir, "builds"), endpoint: s3.endpoint, credentials: s3.credentials });
    const a = store(dataA);
    const b = store(dataB);
    return {
      a,
      b,
      async close() {
        a.destroy();
        b.destroy();
        await s3.close();
        await rm(dataA, { recursive: true, force: true });
        await rm(dataB, { recursive: true, force: true });
      },
    };
  });

  it("a download that does not match the build's md5 is refused and leaves no file", async () => {
    const s3 = await startS3Server();
    const dataDir = await mkdtemp(join(tmpdir(), "raptor-worker-"));
    const scratch = await mkdtemp(join(tmpdir(), "raptor-store-"));
    const a = new S3BuildStore({ bucket: s3.bucket, prefix: "", cacheDir: join(scratch, "a"), endpoint: s3.endpoint, credentials: s3.credentials });
    const b = new S3BuildStore({ bucket: s3.bucket, prefix: "", cacheDir: join(dataDir, "builds"), endpoint: s3.endpoint, credentials: s3.credentials });
    try {
      const { writeFile, readdir } = await import("node:fs/promises");
      await writeFile(join(scratch, "t.tar.gz"), "not what the row says");
      expect(await a.put("b1", join(scratch, "t.tar.gz"))).toBe(`s3://${s3.bucket}/b1.tar.gz`);
      await expect(b.fetch("b1", "0".repeat(32))).rejects.toThrow(/b1 fetched from s3:\/\/raptor-builds is corrupt: md5 [0-9a-f]{32}, expected 0{32}/);
      expect(await readdir(join(dataDir, "builds"))).toEqual([]);
    } finally {
      a.destroy();
      b.destroy();
      await s3.close();
      for (const d of [dataDir, scratch]) await rm(d, { recursive: true, force: true });
    }
  });
});

describe("RAPTOR_BUILD_STORE", () => {
  it.each([
    [undefined, { kind: "dir", dir: "/data/builds" }],
    ["", { kind: "dir", dir: "/data/builds" }],
    ["/mnt/builds", { kind: "dir", dir: "/mnt/builds" }],
    ["s3://raptor-builds", { kind: "s3", bucket: "raptor-builds", prefix: "" }],
    ["s3://raptor-builds/", { kind: "s3", bucket: "raptor-builds", prefix: "" }],
    ["s3://raptor-builds/team/prod/", { kind: "s3", bucket: "raptor-builds", prefix: "team/prod" }],
  ])("%j -> %j", (value, spec) => {
    expect(parseBuildStore(value, "/data")).toEqual(spec);
  });

  it.each(["s3://", "s3:///prefix", "s3://Bad_Bucket/x"])("%s is refused, naming the bucket rule", (value) => {
    expect(() => parseBuildStore(value, "/data")).toThrow(/is not an S3 bucket name \(3-63 lowercase letters, digits, dots and hyphens\); write s3:\/\/bucket\/prefix/);
  });

  // Credentials reach the SDK through its own chain; a URL is printed in logs and messages.
  it.each(["s3://AKIAEXAMPLE:wJalrXUtnFEMI@builds/raptor", "s3://AKIAEXAMPLE@builds"])("%s is refused without repeating the credentials", (value) => {
    let message = "";
    try {
      parseBuildStore(value, "/data");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe("RAPTOR_BUILD_STORE holds credentials (`user:secret@` before the bucket): remove them and give them to the AWS SDK: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE) or the machine's role");
  });

  it("an S3 endpoint with credentials in it is refused without repeating them; one without is taken", () => {
    const env = { RAPTOR_BUILD_STORE: "s3://builds/raptor", RAPTOR_S3_ENDPOINT: "http://AKIAEXAMPLE:wJalrXUtnFEMI@127.0.0.1:9000" };
    expect(() => buildStoreFromEnv(env, "/data")).toThrow(/^the S3 endpoint \(RAPTOR_S3_ENDPOINT or AWS_ENDPOINT_URL\*\) holds credentials \(`user:secret@` before the host\): remove them and give them to the AWS SDK/);
    expect(() => buildStoreFromEnv(env, "/data")).not.toThrow(/wJalrXUtnFEMI|AKIAEXAMPLE/);
    expect(buildStoreFromEnv({ ...env, RAPTOR_S3_ENDPOINT: "http://127.0.0.1:9000" }, "/data").where).toBe("s3://builds/raptor");
  });
});
