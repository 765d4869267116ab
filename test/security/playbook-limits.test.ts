import { describe, expect, it } from "vitest";
import { formatIssue, parsePlaybookFiles } from "../../playbooks/load.ts";

/**
 * Red-team finding (issue 8, LOW): the loader took absurd or silently-ignored values: `drain:
 * 99999h` (a deployment holding its line for 11 years), `size: {web: 100000}`, `ports: 1-1024`
 * (privileged ports procs cannot bind), env names Raptor sets itself for every proc (silently
 * overridden), and `promote_from` loops (a -> b -> a: nothing could ever be deployed). Each is
 * now refused at its file and line, saying what is allowed.
 */
/** A playbook whose squad's `ports` is on line 5 and production's keys on line 12. */
const playbook = (o: { ports?: string; production?: string; staging?: string; ingredientEnv?: string } = {}) => `squads:
  prod:
    hosts: [app1]
    ssh: { user: deploy }
    ports: ${o.ports ?? "5000-5999"}
ingredients:
  common:
    env: ${o.ingredientEnv ?? "{ LOG_LEVEL: info }"}
apps:
  web:
    repo: ./web
    environments:
      production: { squad: prod${o.production ? `, ${o.production}` : ""} }
      staging: { squad: prod${o.staging ? `, ${o.staging}` : ""} }
`;
const issuesOf = (text: string) => {
  const r = parsePlaybookFiles([{ path: "pb.yaml", text }], {});
  return r.ok ? [] : r.issues.map(formatIssue);
};
const P = "apps.web.environments.production";
const RESERVED = "(Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)";

describe("absurd and overridden playbook values, refused at load", () => {
  const refused: [string, Parameters<typeof playbook>[0], string[]][] = [
    ["drain of 99999h", { production: "drain: 99999h" }, [`pb.yaml:13: ${P}.drain must be a duration from 0 to 1h, like 5s or 2m, got "99999h"`]],
    ["drain just over an hour", { production: "drain: 1h1s" }, [`pb.yaml:13: ${P}.drain must be a duration from 0 to 1h, like 5s or 2m, got "1h1s"`]],
    ["size of 100000", { production: "size: { web: 100000 }" }, [`pb.yaml:13: ${P}.size.web must be a whole number of procs from 0 to 100, got 100000`]],
    ["size of 101", { production: "size: { web: 2, worker: 101 }" }, [`pb.yaml:13: ${P}.size.worker must be a whole number of procs from 0 to 100, got 101`]],
    ["privileged ports", { ports: "1-1024" }, ['pb.yaml:5: squads.prod.ports must start at port 1024 or above (ports below 1024 are privileged: procs, which do not run as root, cannot bind them), got "1-1024"']],
    ["port 80", { ports: "80" }, ["pb.yaml:5: squads.prod.ports must start at port 1024 or above (ports below 1024 are privileged: procs, which do not run as root, cannot bind them), got 80"]],
    ["every unprivileged port", { ports: "1024-65535" }, ['pb.yaml:5: squads.prod.ports must span at most 10,000 ports (it spans 64,512), like 5000-5999: a wider range reaches into the ports outgoing connections take, got "1024-65535"']],
    ["PORT in an environment's env", { production: "env: { PORT: '80' }" }, [`pb.yaml:13: ${P}.env: "PORT" is set by Raptor for every proc, over any config of that name; pick another name ${RESERVED}`]],
    ["RAPTOR_APP in an ingredient", { ingredientEnv: "{ RAPTOR_APP: other }" }, [`pb.yaml:8: ingredients.common.env: "RAPTOR_APP" is set by Raptor for every proc, over any config of that name; pick another name ${RESERVED}`]],
    // Issue 8 red team 4: past Node's timer cap (~24.8 days), or a key JavaScript drops silently.
    ["uptest_timeout of 99999999d", { production: "uptest_timeout: 99999999d" }, [`pb.yaml:13: ${P}.uptest_timeout must be a duration from 0 to 1h, like 5s or 2m, got "99999999d"`]],
    ["uptest_run_timeout just over an hour", { production: "uptest_run_timeout: 1h1s" }, [`pb.yaml:13: ${P}.uptest_run_timeout must be a duration from 0 to 1h, like 5s or 2m, got "1h1s"`]],
    ["approval timeout of 30d", { production: "approval: { required: true, timeout: 30d }" }, [`pb.yaml:13: ${P}.approval.timeout must be a duration from 0 to 7d, like 5s or 2m, got "30d"`]],
    ["__proto__ in an environment's env", { production: "env: { __proto__: { A: b } }" }, [`pb.yaml:13: "__proto__" cannot be a key (in ${P}.env): JavaScript gives that name a meaning of its own, and its value would be dropped without a word; use another name`]],
    ["__proto__ among an ingredient's env", { ingredientEnv: "{ LOG_LEVEL: info, __proto__: x }" }, [`pb.yaml:8: "__proto__" cannot be a key (in ingredients.common.env): JavaScript gives that name a meaning of its own, and its value would be dropped without a word; use another name`]],
    [
      "promote_from loop of two",
      { production: "promote_from: staging", staging: "promote_from: production" },
      [`pb.yaml:13: ${P}.promote_from makes a loop: production takes from staging takes from production, so no commit could serve first in any of them; remove promote_from from one of them`],
    ],
  ];
  it.each(refused)("%s", (_, o, expected) => {
    expect(issuesOf(playbook(o))).toEqual(expected);
  });

  const accepted: [string, Parameters<typeof playbook>[0]][] = [
    ["drain of 1h, size of 100, ports 1024-11023", { production: "drain: 1h, size: { web: 100 }", ports: "1024-11023" }],
    ["uptest_timeout and uptest_run_timeout of 1h, approval within 7d", { production: "uptest_timeout: 1h, uptest_run_timeout: 1h, approval: { required: true, timeout: 7d }" }],
    ["a promote_from chain without a loop", { production: "promote_from: staging" }],
    ["names like Raptor's that are not its own", { production: "env: { port: '80', RAPTOR_MODE: x, HOSTNAME_SUFFIX: y }" }],
  ];
  it.each(accepted)("%s loads", (_, o) => {
    expect(issuesOf(playbook(o))).toEqual([]);
  });

  it("a loop of three in one app is reported once, and another app's same names are not in it", () => {
    const text = `squads:
  prod: { hosts: [app1], ssh: { user: deploy } }
apps:
  web:
    repo: ./web
    environments:
      a: { squad: prod, promote_from: c }
      b: { squad: prod, promote_from: a }
      c: { squad: prod, promote_from: b }
  api:
    repo: ./api
    environments:
      a: { squad: prod }
      b: { squad: prod, promote_from: a }
`;
    expect(issuesOf(text)).toEqual([
      "pb.yaml:7: apps.web.environments.a.promote_from makes a loop: a takes from c takes from b takes from a, so no commit could serve first in any of them; remove promote_from from one of them",
    ]);
  });
});
