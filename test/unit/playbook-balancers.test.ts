import { describe, expect, it } from "vitest";
import { formatIssue, parsePlaybookFiles } from "../../playbooks/load.ts";
import type { BalancerConfig } from "../../playbooks/types.ts";

/** Loads one `balancers:` entry (flow-style YAML on line 3 of lb.yaml) and returns it or its issues. */
function load(entry: string): { balancer?: BalancerConfig; issues: string[] } {
  const text = `balancers:\n  edge:\n    ${entry}\n`;
  const result = parsePlaybookFiles([{ path: "lb.yaml", text }], { LB_PW: "s3cret" });
  if (!result.ok) return { issues: result.issues.map(formatIssue) };
  return { balancer: result.playbook.balancers.edge!, issues: [] };
}

describe("balancers: the contract keys and each kind's defaults", () => {
  it("nginx over SSH gets validate [nginx, -t] and reload [nginx, -s, reload]", () => {
    const { balancer, issues } = load(`{ kind: nginx, hosts: [lb1, lb2], ssh: { user: deploy, key: /k }, include_dir: /etc/nginx/raptor }`);
    expect(issues).toEqual([]);
    expect(balancer).toEqual({
      name: "edge",
      kind: "nginx",
      hosts: ["lb1", "lb2"],
      transport: "ssh",
      ssh: { user: "deploy", port: 22, key: "/k" },
      include_dir: "/etc/nginx/raptor",
      validate: ["nginx", "-t"],
      reload: ["nginx", "-s", "reload"],
      insecure: false,
    });
  });

  it("nginx on this machine: transport local needs no ssh; a string command is split on spaces", () => {
    const { balancer } = load(`{ kind: nginx, hosts: [127.0.0.1], transport: local, include_dir: /x/raptor, reload: "nginx -p /x -s reload" }`);
    expect(balancer).toMatchObject({ transport: "local", reload: ["nginx", "-p", "/x", "-s", "reload"], validate: ["nginx", "-t"] });
  });

  it("varnish defaults to loading /etc/varnish/default.vcl through varnishadm (vcl.load is the validation; no reload)", () => {
    const { balancer } = load(`{ kind: varnish, hosts: [c1], transport: local, include_dir: /etc/varnish/raptor }`);
    expect(balancer).toMatchObject({ vcl: "/etc/varnish/default.vcl", varnishadm: ["varnishadm"] });
    expect(balancer?.validate).toBeUndefined();
    expect(balancer?.reload).toBeUndefined();
  });

  it("varnish: the issue's keys as written (validate with varnishd -C, reload with varnishreload)", () => {
    const { balancer } = load(`{ kind: varnish, hosts: [c1], transport: local, include_dir: /v/raptor, validate: [varnishd, -C, -f, /etc/varnish/default.vcl], reload: [varnishreload] }`);
    expect(balancer).toMatchObject({ validate: ["varnishd", "-C", "-f", "/etc/varnish/default.vcl"], reload: ["varnishreload"] });
  });

  it("haproxy validates the main config plus the include_dir", () => {
    const { balancer } = load(`{ kind: haproxy, hosts: [lb1], ssh: { user: d }, socket: /run/haproxy/admin.sock, include_dir: /etc/haproxy/raptor }`);
    expect(balancer).toMatchObject({
      socket: "/run/haproxy/admin.sock",
      validate: ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg", "-f", "/etc/haproxy/raptor"],
      reload: ["systemctl", "reload", "haproxy"],
    });
  });

  it("stingray takes url, username, password (from the environment) and insecure", () => {
    const { balancer } = load(`{ kind: stingray, url: "https://vtm:9070/api/tm/7.0", username: admin, password: "\${LB_PW}", insecure: true }`);
    expect(balancer).toMatchObject({ hosts: [], url: "https://vtm:9070/api/tm/7.0", username: "admin", password: "s3cret", insecure: true });
  });
});

describe("balancers: each mistake, with file and line", () => {
  const B = "balancers.edge";
  // Line 3 is the entry's own line; a missing key is reported on the entry's name (line 2).
  const cases: [string, string, string][] = [
    ["nginx without include_dir", "{ kind: nginx, hosts: [lb1], ssh: { user: d } }", `lb.yaml:2: ${B} needs \`include_dir:\` (the directory whose pool files Raptor owns, e.g. /etc/nginx/raptor)`],
    ["nginx without hosts", "{ kind: nginx, ssh: { user: d }, include_dir: /a }", `lb.yaml:2: ${B}.hosts must list at least one host (the nginx machines Raptor changes)`],
    ["nginx over ssh without a user", "{ kind: nginx, hosts: [lb1], include_dir: /a }", `lb.yaml:2: ${B}.ssh is required when transport is ssh (the user Raptor logs in as); or set \`transport: local\``],
    ["a key another kind reads", "{ kind: nginx, hosts: [lb1], transport: local, include_dir: /a, socket: /s }", `lb.yaml:3: ${B}.socket is not used by kind nginx (it reads kind, hosts, transport, ssh, include_dir, validate, reload)`],
    ["a typo", "{ kind: nginx, hosts: [lb1], transport: local, include_dir: /a, realod: [x] }", `lb.yaml:3: unknown key "realod" in ${B}. Did you mean \`reload\`?`],
    ["a relative include_dir over ssh", "{ kind: nginx, hosts: [lb1], ssh: { user: d }, include_dir: etc/raptor }", `lb.yaml:3: ${B}.include_dir must be an absolute path (starting with /) on a host reached over ssh, got "etc/raptor"`],
    ["an include_dir with ..", "{ kind: nginx, hosts: [lb1], transport: local, include_dir: /etc/../raptor }", `lb.yaml:3: ${B}.include_dir must be the path of the directory Raptor writes its pool files to (no ..), got "/etc/../raptor"`],
    ["an empty reload", "{ kind: nginx, hosts: [lb1], transport: local, include_dir: /a, reload: [] }", `lb.yaml:3: ${B}.reload must not be empty, got a list`],
    ["a host twice", "{ kind: nginx, hosts: [lb1, lb1], transport: local, include_dir: /a }", `lb.yaml:3: ${B}.hosts[1] lists "lb1" twice`],
    ["a bad transport", "{ kind: nginx, hosts: [lb1], transport: rsh, include_dir: /a }", `lb.yaml:3: ${B}.transport must be "ssh" or "local", got "rsh"`],
    ["haproxy without socket", "{ kind: haproxy, hosts: [lb1], transport: local, include_dir: /a }", `lb.yaml:2: ${B} needs \`socket:\` (the runtime API socket on each host, e.g. /run/haproxy/admin.sock)`],
    ["stingray without url", "{ kind: stingray }", `lb.yaml:2: ${B} needs \`url:\` (the REST API base, e.g. https://vtm.internal:9070/api/tm/7.0)`],
    ["stingray with hosts", "{ kind: stingray, url: 'https://v/api', hosts: [v] }", `lb.yaml:3: ${B}.hosts must be empty for kind stingray (it is not reached over SSH)`],
    ["stingray url not http", "{ kind: stingray, url: 'ftp://v' }", `lb.yaml:3: ${B}.url must be an http(s) URL like https://vtm.internal:9070/api/tm/7.0, got "ftp://v"`],
    ["insecure not a flag", "{ kind: stingray, url: 'https://v', insecure: maybe }", `lb.yaml:3: ${B}.insecure must be true or false, got "maybe"`],
  ];
  it.each(cases)("%s", (_, entry, expected) => {
    expect(load(entry).issues).toEqual([expected]);
  });
});
