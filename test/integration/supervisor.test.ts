import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderSupervisorProgram } from "../../runners/proc-layout.ts";
import { createSupervisor, Faults, SupervisorError } from "../../runners/supervisor/xmlrpc-client.ts";
import type { Supervisor } from "../../runners/supervisor/types.ts";
import { freePort, startSupervisord, type OwnSupervisord } from "../support/supervisord.ts";

// A real supervisord of our own: its config in a temp dir, XML-RPC on a free loopback port.
let dir: string;
let own: OwnSupervisord;
let url: string;
let sup: Supervisor;
let password: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "raptor-sup-"));
  mkdirSync(join(dir, "supervisor"));
  own = await startSupervisord({ dir, include: `${dir}/supervisor/*.conf`, timeoutMs: 5000 });
  ({ url, sup, password } = own);
});

afterAll(async () => {
  await own?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeProgram(name: string, command: string[], env?: Record<string, string>) {
  writeFileSync(join(dir, "supervisor", `${name}.conf`), renderSupervisorProgram({ name, command, directory: dir, stdoutLog: join(dir, `${name}.log`), env }));
}

async function state(name: string) {
  return (await sup.getAllProcessInfo()).find((p) => p.name === name)?.statename;
}

describe("supervisord over XML-RPC", () => {
  it("adds, starts, stops and removes a program; repeats are no-ops", async () => {
    writeProgram("sleeper", ["/bin/sleep", "1000"]);
    expect((await sup.reloadConfig()).added).toContain("sleeper");
    await sup.addProcessGroup("sleeper");
    await sup.addProcessGroup("sleeper"); // ALREADY_ADDED
    await sup.startProcess("sleeper", true);
    await sup.startProcess("sleeper", true); // ALREADY_STARTED
    expect(await state("sleeper")).toBe("RUNNING");
    await sup.stopProcess("sleeper", true);
    await sup.stopProcess("sleeper", true); // NOT_RUNNING
    expect(await state("sleeper")).toBe("STOPPED");
    await sup.startProcess("sleeper", true);
    await sup.removeProcessGroup("sleeper"); // STILL_RUNNING -> stop, then remove
    expect(await state("sleeper")).toBeUndefined();
    await sup.removeProcessGroup("sleeper"); // BAD_NAME
    await sup.stopProcess("sleeper", true); // BAD_NAME
    rmSync(join(dir, "supervisor", "sleeper.conf"));
    expect((await sup.reloadConfig()).removed).toEqual([]);
  });

  it("addAndStart adds and starts several programs in one multicall; repeats are no-ops; an unknown name is a BAD_NAME naming addProcessGroup", async () => {
    writeProgram("multi-a", ["/bin/sleep", "1000"]);
    writeProgram("multi-b", ["/bin/sleep", "1000"]);
    await sup.reloadConfig();
    await sup.addAndStart(["multi-a", "multi-b"]);
    expect([await state("multi-a"), await state("multi-b")].every((s) => s === "STARTING" || s === "RUNNING")).toBe(true);
    await sup.addAndStart(["multi-a", "multi-b"]); // ALREADY_ADDED, ALREADY_STARTED
    const err = (await sup.addAndStart(["multi-a", "no-such-program"]).catch((e: unknown) => e)) as SupervisorError;
    expect(err).toBeInstanceOf(SupervisorError);
    expect(err.faultCode).toBe(Faults.BAD_NAME);
    expect(err.method).toBe("supervisor.addProcessGroup");
    expect(err.message).toContain("supervisor.addProcessGroup(no-such-program)");
    for (const n of ["multi-a", "multi-b"]) {
      await sup.removeProcessGroup(n);
      rmSync(join(dir, "supervisor", `${n}.conf`));
    }
  });

  it("passes environment= values through supervisor's parser unchanged", async () => {
    const env = { A: "x y,z=1", B: "100% (here)s %s %%(x)", C: "it's", D: "", E: "a;b#c", F: "$(id) `id` \\n" };
    writeProgram("envdump", ["/bin/sh", "-c", "env; exec sleep 1000"], env);
    await sup.reloadConfig();
    await sup.addProcessGroup("envdump");
    await sup.startProcess("envdump", true);
    const [log] = await sup.tailProcessStdoutLog("envdump", 0, 100_000);
    for (const [k, v] of Object.entries(env)) expect(log.split("\n")).toContain(`${k}=${v}`);
    await sup.removeProcessGroup("envdump");
  });

  it("maps other faults to SupervisorError naming url, method and fault, never the password", async () => {
    const err = await sup.startProcess("no-such-program", true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupervisorError);
    const e = err as SupervisorError;
    expect(e.code).toBe("supervisor_failed");
    expect(e.faultCode).toBe(Faults.BAD_NAME);
    expect(e.message).toContain(url);
    expect(e.message).toContain("supervisor.startProcess(no-such-program)");
    expect(e.message).toContain("BAD_NAME");
    expect(e.message).not.toContain(password);
  });

  it("reports a wrong password without echoing it", async () => {
    const bad = createSupervisor({ url: url.replace("http://", `http://raptor:wrong-${password}@`), timeoutMs: 5000 });
    const e = (await bad.getAllProcessInfo().catch((x: unknown) => x)) as SupervisorError;
    expect(e).toBeInstanceOf(SupervisorError);
    expect(e.message).toMatch(/401/);
    expect(e.message).not.toContain(password);
  });

  it("says supervisord is not reachable when nothing listens", async () => {
    const port = await freePort();
    const s = createSupervisor({ url: `http://raptor:${password}@127.0.0.1:${port}/RPC2`, timeoutMs: 2000 });
    const e = (await s.getAllProcessInfo().catch((x: unknown) => x)) as SupervisorError;
    expect(e).toBeInstanceOf(SupervisorError);
    expect(e.message).toBe(`supervisord is not reachable at http://127.0.0.1:${port}/RPC2 (ECONNREFUSED) on supervisor.getAllProcessInfo()`);
  });

  it("times out a call that gets no answer", async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as AddressInfo;
    try {
      const s = createSupervisor({ url: `http://127.0.0.1:${port}/RPC2`, timeoutMs: 300 });
      const e = (await s.reloadConfig().catch((x: unknown) => x)) as SupervisorError;
      expect(e).toBeInstanceOf(SupervisorError);
      expect(e.message).toContain("timed out after 300ms");
    } finally {
      silent.close();
      silent.unref();
    }
  });
});
