import { HELLO_APP, makeAppRepo } from "./app-repo.ts";
import { startHarness, type Harness } from "./raptor-harness.ts";

/**
 * A harness with no workers whose one app, `hello` (the example app in a fresh git repo, or
 * `repo`), has one environment `local` on squad `here`: this machine over `transport: local`, with
 * its own `ports` range ("7900-7909") and `root`. Its deployments are run by hand, by the test.
 * Tests sharing a run give each a ports range and root of its own.
 */
export async function startHelloHarness(o: { ports: string; root: string; repo?: string }): Promise<Harness> {
  const repo = o.repo ?? (await makeAppRepo(HELLO_APP)).path;
  return startHarness({
    workers: 0,
    playbookYaml: {
      "pb.yaml": [
        "squads:",
        `  here: { hosts: [127.0.0.1], transport: local, ports: ${o.ports}, root: ${o.root} }`,
        "apps:",
        `  hello: { repo: ${JSON.stringify(repo)}, environments: { local: { squad: here } } }`,
      ].join("\n"),
    },
  });
}
