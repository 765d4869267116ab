import { describe, expect, it } from "vitest";
import { DEFAULT_PROC_USER, expandProcUser, procUserProblem } from "../../lib/proc-user-name.ts";
import { passwdProblem, procIdentity } from "../../runners/proc-user.ts";

describe("proc users: one per app by default (runners/proc-user.ts)", () => {
  it.each([
    ["raptor-{app}", "hello", "raptor-hello"],
    ["app-{app}-x", "web_1", "app-web_1-x"],
    ["shared", "hello", "shared"],
    // 32 characters exactly: kept as is.
    ["raptor-{app}", "a".repeat(25), `raptor-${"a".repeat(25)}`],
    // Longer: the start of the name and 8 hex digits of its SHA-256, 32 characters.
    // (printf a-very-long-application-name-here | sha256sum: 97b2b62f…)
    ["raptor-{app}", "a-very-long-application-name-here", "raptor-a-very-long-appl-97b2b62f"],
  ])("%s for app %s is %s", (template, app, user) => {
    const name = expandProcUser(template, app);
    expect(name).toBe(user);
    expect(name.length).toBeLessThanOrEqual(32);
  });

  it("two long app names with the same start get different users", () => {
    const a = expandProcUser("raptor-{app}", `${"x".repeat(40)}-one`);
    const b = expandProcUser("raptor-{app}", `${"x".repeat(40)}-two`);
    expect(a).not.toBe(b);
    expect(a.length).toBe(32);
  });

  it("the default gives each app its own user and group, managed by Raptor; a fixed name is shared and the operator's", () => {
    expect(DEFAULT_PROC_USER).toBe("raptor-{app}");
    expect(procIdentity({}, "hello")).toEqual({ user: "raptor-hello", group: "raptor-hello", managed: true, comment: "raptor proc user for app hello" });
    expect(procIdentity({ user: "app", group: "apps" }, "hello")).toMatchObject({ user: "app", group: "apps", managed: false });
    expect(procIdentity({ user: "app-{app}", group: "grp-{app}" }, "evil")).toMatchObject({ user: "app-evil", group: "grp-evil", managed: true });
  });

  it.each([
    ["raptor-{app}", undefined],
    ["app", undefined],
    ["root", "must not be root: procs run unprivileged"],
    ["{app}", "must not start with {app}"],
    ["a-{app}-{app}", "may contain {app} once"],
    ["Upper", "must be a user or group name"],
    ["x".repeat(33), "must be at most 32 characters"],
    [`${"x".repeat(23)}{app}`, "must be at most 22 characters besides {app}"],
  ])("playbook value %s: %s", (value, problem) => {
    if (problem === undefined) expect(procUserProblem(value)).toBeUndefined();
    else expect(procUserProblem(value)).toContain(problem);
  });

  it("an existing user is used only when it is not root and, when Raptor manages it, Raptor made it for this app", () => {
    const id = procIdentity({}, "build");
    expect(passwdProblem("raptor-build:x:990:990:raptor proc user for app build:/nonexistent:/usr/sbin/nologin", id, "h1")).toBeUndefined();
    expect(passwdProblem("raptor-build:x:990:990::/nonexistent:/usr/sbin/nologin", id, "h1")).toContain("exists but Raptor did not create it for this app");
    expect(passwdProblem("raptor-build:x:0:0:raptor proc user for app build:/:/bin/sh", id, "h1")).toContain("has uid 0");
    expect(passwdProblem("app:x:1000:1000:Some One:/home/app:/bin/bash", procIdentity({ user: "app" }, "hello"), "h1")).toBeUndefined();
  });
});
