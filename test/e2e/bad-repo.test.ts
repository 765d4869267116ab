import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../lib/logger.ts";
import { silentLogger } from "../../lib/logger.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";

/**
 * Red-team L3 (2026-11-30): a bad `repo:` (`--upload-pack=id>/tmp/pwned3;`, made a path under the
 * playbook's directory, or a path that is not there) failed at resolve as `internal` and printed
 * git's whole argv in the thread, with the mirror's path under RAPTOR_DATA. It fails as
 * `repo_unreadable` saying what git said; the argv is in raptor.log only.
 */
describe("a repo git cannot read", () => {
  let h: Harness;
  const logged: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger: Logger = { ...silentLogger, warn: (obj: object, msg?: string) => void logged.push({ obj: obj as Record<string, unknown>, msg: msg ?? "" }) };

  beforeAll(async () => {
    // Nothing reaches a host: resolve is the first step. The squad is never contacted.
    const squad = ["squads:", "  here:", "    hosts: [127.0.0.1]", "    transport: local", '    supervisor: { url: "http://127.0.0.1:1/RPC2", username: u, password: p }', "    ports: 7500-7510", "    root: /tmp/raptor-bad-repo-never-used", "balancers:", "  lb: { kind: memory }"];
    const app = (repo: string, pool: string) => `    repo: ${JSON.stringify(repo)}\n    environments:\n      local: { squad: here, size: { web: 1 }, balancer: lb, pool: ${pool}, ref: main }`;
    h = await startHarness({
      playbookYaml: { "pb.yaml": `${squad.join("\n")}\napps:\n  pxapp:\n${app("--upload-pack=id>/tmp/pwned3;", "px_local")}\n  gone:\n${app("/tmp/raptor-no-such-repo-l3", "gone_local")}\n` },
      logger,
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ["pxapp", "--upload-pack=id>/tmp/pwned3;"],
    ["gone", "/tmp/raptor-no-such-repo-l3"],
  ])("deploy %s local: not internal, what git said, no argv and no cache path in the thread", async (app, written) => {
    const r = await h.say(`deploy ${app} local`);
    expect(r.final?.type, r.text).toBe("deployment.failed");
    const repo = written.startsWith("/") ? written : `${h.dataDir}/playbooks/${written}`;
    const said = `cannot read the repo ${repo}: repository '${repo}' does not exist`;
    expect(r.text).toContain(`✗ resolve`);
    expect(r.text.split("\n").find((l) => l.includes(`✗ Deploy ${app} local`))).toMatch(/failed at resolve .*\(repo_unreadable\): /);
    expect(r.text.split("\n").find((l) => l.includes(`✗ Deploy ${app} local`))).toContain(said);
    expect(r.text).not.toContain("(internal)");
    expect(r.text).not.toContain("git clone");
    expect(r.text).not.toContain(`${h.dataDir}/cache`);
    expect(r.text).not.toContain("retrying"); // a repo that is not there is not there next time
    // raptor.log keeps the evidence.
    const line = logged.find((l) => l.obj.step === "resolve" && l.obj.app === app);
    expect(line?.obj).toMatchObject({ code: "repo_unreadable", detail: expect.stringContaining(`git clone --mirror --quiet -- ${repo} ${h.dataDir}/cache/git/`) });
  }, 60_000);
});
