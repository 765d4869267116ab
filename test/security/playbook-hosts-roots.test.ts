import { describe, expect, it } from "vitest";
import { formatIssue, parsePlaybookFiles } from "../../playbooks/load.ts";

/**
 * Issue 8 §5: a squad's host names and root are checked when the playbook loads, with the file,
 * the line and what is wrong. Before, a root with a shell character or a line break was refused
 * only when a deployment reached the host, and a host name was never checked (it went to ssh, to
 * supervisord's URL and into paths as written).
 */
/** A playbook whose squad has `hosts` on line 3 and `more` from line 5. */
const squads = (hosts: string, more = "") => `squads:
  prod:
    hosts: ${hosts}
    ssh: { user: deploy }
${more}apps:
  web:
    repo: ./web
    environments:
      production: { squad: prod }
`;
const issuesOf = (text: string) => {
  const r = parsePlaybookFiles([{ path: "pb.yaml", text }], {});
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe("squad host names (RFC 1123) and roots, at load", () => {
  const refused: [string, string, string][] = [
    ["a shell command in a host", "    hosts: [\"app1;reboot\"]\n", 'pb.yaml:3: squads.prod.hosts[0] "app1;reboot" is not a host name or IP address: host names are letters, digits and "-" in dot-separated labels (RFC 1123)'],
    ["a space in a host", '    hosts: ["app 1"]\n', 'pb.yaml:3: squads.prod.hosts[0] "app 1" is not a host name: it contains a space or a control character (a line break, a tab)'],
    ["a line break in a host", '    hosts: ["app1\\nevil"]\n', 'pb.yaml:3: squads.prod.hosts[0] "app1\\nevil" is not a host name: it contains a space or a control character (a line break, a tab)'],
    ["an option as a host", '    hosts: ["-oProxyCommand=x"]\n', 'pb.yaml:3: squads.prod.hosts[0] "-oProxyCommand=x" is not a host name or IP address: host names are letters, digits and "-" in dot-separated labels (RFC 1123)'],
    ["a label starting with -", '    hosts: ["app.-x"]\n', 'pb.yaml:3: squads.prod.hosts[0] "app.-x" is not a host name: a label may not start or end with "-" (RFC 1123)'],
    ["an empty label", '    hosts: ["app..example.com"]\n', 'pb.yaml:3: squads.prod.hosts[0] "app..example.com" is not a host name: it has an empty label (".." or a dot at an end)'],
    ["a label over 63", `    hosts: ["${"a".repeat(64)}.example.com"]\n`, `pb.yaml:3: squads.prod.hosts[0] "${"a".repeat(64)}.example.com" is not a host name: the label "${"a".repeat(20)}…" is longer than 63 characters (RFC 1123)`],
    ["a shell character in a root", '    root: "/srv/$(id)"\n', 'pb.yaml:5: squads.prod.root must be a directory path of letters, digits and _ . / @ + , : = - only (no spaces, quotes or shell characters); it has "$", "(", ")", got "/srv/$(id)"'],
    ["a line break in a root", '    root: "/srv/apps\\n[program:x]"\n', 'pb.yaml:5: squads.prod.root must be a directory path on one line: it contains a line break or another control character, got "/srv/apps\\n[program:x]"'],
    ["a space in a root", '    root: "/srv/my apps"\n', 'pb.yaml:5: squads.prod.root must be a directory path of letters, digits and _ . / @ + , : = - only (no spaces, quotes or shell characters); it has a space, got "/srv/my apps"'],
    ["a relative root over ssh", "    root: apps\n", 'pb.yaml:5: squads.prod.root must be an absolute path (starting with /) on the hosts, got "apps"'],
    ["a root with ..", "    root: /srv/apps/../../etc\n", 'pb.yaml:5: squads.prod.root must not contain ".." (write the directory it means), got "/srv/apps/../../etc"'],
    ["a root not normalized", "    root: /srv//apps\n", 'pb.yaml:5: squads.prod.root must be a normalized path (no "//" or "/./"), got "/srv//apps"'],
  ];
  it.each(refused)("%s is refused", (_, line, expected) => {
    const text = line.startsWith("    hosts: ") ? squads(line.slice(11, -1)) : squads("[app1, 10.0.0.5]", line);
    expect(issuesOf(text)).toEqual([expected]);
  });

  const accepted: [string, string][] = [
    ["names, IPv4 and IPv6", '    hosts: [app1, web-2.example.com, 10.0.0.5, "::1", 3com.net]\n'],
    ["{host} in the root", "    root: /srv/{host}/apps\n"],
    ["a trailing slash", "    root: /srv/apps/\n"],
    ["a relative local root", "    transport: local\n    root: .raptor/hosts/{host}\n"],
  ];
  it.each(accepted)("%s load", (_, line) => {
    const text = line.startsWith("    hosts: ") ? squads(line.slice(11, -1)) : squads("[app1, 10.0.0.5]", line);
    expect(issuesOf(text)).toEqual([]);
  });
});
