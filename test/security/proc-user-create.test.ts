import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { LocalHost } from "../../runners/local-host.ts";
import { ensureProcUser, procIdentity } from "../../runners/proc-user.ts";

const exec = promisify(execFile);

/** Fresh app names (so their users are missing), removed at the end. */
const RACE = `race${randomBytes(3).toString("hex")}`;
const SQUAT = `squat${randomBytes(3).toString("hex")}`;

describe("Raptor creates each app's proc user on the host (root), once, and never takes over an account it did not make", () => {
  afterAll(async () => {
    for (const app of [RACE, SQUAT]) await exec("userdel", [`raptor-${app}`]).catch(() => undefined);
  });

  it("six deployments creating the same user at once (separate workers: no shared cache) all succeed, and one user exists, unprivileged, no login", async () => {
    const id = procIdentity({}, RACE);
    await expect(exec("id", ["-u", id.user])).rejects.toThrow();
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => ensureProcUser(new LocalHost(`worker${i}`), id)));
    expect(results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"))).toEqual(Array(6).fill("ok"));
    const entries = (await exec("getent", ["passwd"])).stdout.split("\n").filter((l) => l.startsWith(`${id.user}:`));
    expect(entries).toHaveLength(1);
    const [, , uid, , gecos, home, shell] = entries[0]!.split(":");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(gecos).toBe(`raptor proc user for app ${RACE}`);
    expect(home).toBe("/nonexistent");
    expect(shell).toBe("/usr/sbin/nologin");
    // Its own group, of its own name.
    expect((await exec("id", ["-gn", id.user])).stdout.trim()).toBe(id.user);
  });

  it("a user of that name that Raptor did not create (another program's account) is refused with what to do", async () => {
    const id = procIdentity({}, SQUAT);
    await exec("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", id.user]);
    const err = await ensureProcUser(new LocalHost("h1"), id).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`the user \`raptor-${SQUAT}\` on h1 exists but Raptor did not create it for this app`);
    expect((err as Error).message).toContain("give the squad a `user:` template that makes another name");
  });

  it("a fixed `user:` is the operator's: Raptor neither creates nor checks it here (hosts check does)", async () => {
    await expect(ensureProcUser(new LocalHost("h1"), procIdentity({ user: "no-such-user-here" }, "hello"))).resolves.toBeUndefined();
    await expect(exec("id", ["-u", "no-such-user-here"])).rejects.toThrow();
  });
});
