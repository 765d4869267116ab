import { describe, expect, it } from "vitest";
import { localSupervisors, supervisorDownText } from "../../bin/say-hosts-up.ts";
import type { Squad } from "../../playbooks/types.ts";

/** New-user trial, finding 11: which supervisords `raptor say` checks before a deployment, and what it says. */
describe("localSupervisors", () => {
  const squad = (o: Partial<Squad>): Squad => ({
    name: "local",
    hosts: ["127.0.0.1"],
    transport: "local",
    ssh: { user: "", port: 22 },
    supervisor: { url: "http://127.0.0.1:9001/RPC2" },
    ports: { from: 7000, to: 7099 },
    root: "/tmp",
    user: "raptor-{app}",
    ...o,
  });
  it.each<[string, Partial<Squad>, { host: string; port: number }[]]>([
    ["the demo's", {}, [{ host: "127.0.0.1", port: 9001 }]],
    ["{host} per loopback host", { hosts: ["127.0.0.2", "127.0.0.3"], supervisor: { url: "http://{host}:9011/RPC2" } }, [{ host: "127.0.0.2", port: 9011 }, { host: "127.0.0.3", port: 9011 }]],
    ["localhost, no port", { supervisor: { url: "http://localhost/RPC2" } }, [{ host: "localhost", port: 80 }]],
    ["ssh: not this machine's", { transport: "ssh" }, []],
    ["local transport, a supervisord elsewhere", { supervisor: { url: "http://10.0.0.5:9001/RPC2" } }, []],
  ])("%s", (_name, o, out) => expect(localSupervisors(squad(o)).map(({ host, port }) => ({ host, port }))).toEqual(out));
});

describe("supervisorDownText", () => {
  const down = { url: "http://127.0.0.1:9001/RPC2", host: "127.0.0.1", port: 9001 };
  it("the demo with make run stopped: make run is the fix", () => {
    expect(supervisorDownText({ said: "deploy hello local", squad: "local", down, why: "ECONNREFUSED", makeRun: true })).toBe(
      "make run is not running, so the demo's supervisord (127.0.0.1:9001) is not either and `deploy hello local` could not start a proc. Start it with `make run` in another terminal, then try again. Nothing was queued.",
    );
  });
  it("otherwise: the squad's supervisord, and the demo's fix beside", () => {
    expect(supervisorDownText({ said: "scale hello local web=2", squad: "local", down, why: "ECONNREFUSED", makeRun: false })).toBe(
      "squad local's supervisord does not answer at 127.0.0.1:9001 (ECONNREFUSED), so `scale hello local web=2` could not start a proc. Start that supervisord (for the demo: `make run`), then try again. Nothing was queued.",
    );
  });
});
