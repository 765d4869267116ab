import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builds } from "../../db/schema/index.ts";
import { S3BuildStore } from "../../engine/builds/store-s3.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { startWorker } from "../../engine/worker.ts";
import { HostCache } from "../../runners/host-cache.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startS3Server, type S3Server } from "../support/s3-server.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * Workers on several machines share builds through an S3 build store (issue 13 item 6): worker A
 * builds and deploys to staging; worker B, with its own data directory and only the bucket in
 * common, deploys the same commit to production. B fetches A's build from the bucket and uploads
 * it to its host: the commit is built once.
 */
describe("an S3 build store shared by two workers with separate data directories", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let s3: S3Server;
  let h: Harness;
  let dataB: string;
  const stores: S3BuildStore[] = [];
  const storeIn = (dataDir: string) => {
    const s = new S3BuildStore({ bucket: s3.bucket, prefix: "raptor/builds", cacheDir: join(dataDir, "builds"), endpoint: s3.endpoint, credentials: s3.credentials });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    s3 = await startS3Server();
    bed = await startTestbed({ hosts: 2 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    const [one, two] = bed.hosts.map((x) => x.name);
    h = await startHarness({
      workers: 0,
      buildStore: storeIn,
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("one", { hosts: [one!] }), bed.squadYaml("two", { hosts: [two!] })], {
          hello: {
            repo: repo.path,
            environments: { stage: bedEnv(1, "hello_stage", { squad: "one", uptest_timeout: "20s" }), prod: bedEnv(1, "hello_prod", { squad: "two", uptest_timeout: "20s" }) },
          },
        }),
      },
    });
    dataB = await mkdtemp(join(tmpdir(), "raptor-worker-b-"));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    for (const s of stores) s.destroy();
    await bed?.stop();
    await s3?.close();
    if (dataB) await rm(dataB, { recursive: true, force: true });
  });

  it("the second worker's start uploads the build the first one made, built once", async () => {
    const [, hostTwo] = bed.hosts.map((x) => x.name);
    const a = await startWorker(h.engine);
    const staged = await h.say("deploy hello stage");
    await a.close();
    expect(staged.final?.type, staged.text).toBe("deployment.succeeded");
    const [built, ...others] = await h.engine.db.select().from(builds).where(eq(builds.app, "hello"));
    expect(others).toEqual([]);
    expect(built!.path).toBe(`s3://${s3.bucket}/raptor/builds/${built!.id}.tar.gz`);

    // Worker B: same database, Redis and bucket; its own data directory and SSH connections.
    const engineB: EngineApiDeps = { ...h.engine, dataDir: dataB, builds: storeIn(dataB), hosts: new HostCache() };
    const b = await startWorker(engineB);
    try {
      const prod = await h.say("deploy hello prod");
      expect(prod.final?.type, prod.text).toBe("deployment.succeeded");
      expect(prod.text).toContain(`reused build ${built!.id.slice(0, 8)}`);
      expect(prod.text).toContain(`uploaded build to ${hostTwo}`);
      expect(prod.text).not.toMatch(/Building hello|building it again/);
    } finally {
      await b.close();
      await engineB.hosts.closeAll();
    }
    // Built once: still one row, untouched (same log, same end), and B's copy is A's tarball.
    const after = await h.engine.db.select().from(builds).where(eq(builds.app, "hello"));
    expect(after).toEqual([built]);
    expect(built!.log.match(/-----> Building hello/g)).toHaveLength(1);
    const copy = await readFile(join(dataB, "builds", `${built!.id}.tar.gz`));
    expect(createHash("md5").update(copy).digest("hex")).toBe(built!.md5);
  }, 180_000);
});
