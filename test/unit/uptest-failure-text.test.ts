import { describe, expect, it } from "vitest";
import { uptestFailureText } from "../../engine/pipeline/uptest-failure-text.ts";
import { flatParens } from "../../runners/process-runner.ts";

/**
 * Trial 2, M4: `deploy hello local` with `process.exit(3);` at the top of server.js read
 *   ✗ uptest  426ms  hello-local-v7-web-7000 on 127.0.0.1 did not come up (2 of 2 checks failed).
 *     ── hello-local-v7-web-7000 on 127.0.0.1: running
 *     proc hello-local-v7-web-7000 is BACKOFF (Exited too quickly (process log may have details))
 * The runner's sentence is now "was last seen BACKOFF (Exited too quickly; ...)" (flatParens).
 */
const seen = (name: string) => `proc ${name} was last seen BACKOFF (${flatParens("Exited too quickly (process log may have details)")})\n\nits output:\nstarting\n`;
const web = (port: number) => ({ proc: { name: `hello-local-v7-web-${port}`, host: "127.0.0.1" }, result: { name: "running", output: seen(`hello-local-v7-web-${port}`) } });

describe("the uptest step's failure text", () => {
  it("the report's two crashed procs: which proc, its state as last seen, what was counted; no nested parentheses", () => {
    const { message, output } = uptestFailureText([web(7000), web(7001)], 2, 3);
    expect(message).toBe("2 of 2 new procs failed their checks. First: hello-local-v7-web-7000 on 127.0.0.1 did not come up: supervisord last saw it BACKOFF (Exited too quickly; process log may have details).");
    expect(output.split("\n")[0]).toBe("── hello-local-v7-web-7000 on 127.0.0.1 did not come up: supervisord last saw it BACKOFF (Exited too quickly; process log may have details)");
    expect(output).not.toMatch(/: running$/m);
    expect(output).toContain("its output:\nstarting");
    expect(`${message}\n${output}`).not.toMatch(/\([^()]*\(/);
  });
  it.each([
    ["one proc of one", [web(7000)], 1, "hello-local-v7-web-7000 on 127.0.0.1 did not come up: supervisord last saw it BACKOFF (Exited too quickly; process log may have details)."],
    ["one proc of two", [web(7000)], 2, "hello-local-v7-web-7000 on 127.0.0.1 did not come up: supervisord last saw it BACKOFF (Exited too quickly; process log may have details). 1 of 2 new procs failed their checks."],
    ["an uptest", [{ proc: { name: "hello-local-v7-web-7000", host: "a" }, result: { name: "http", output: "widgets gone" } }], 2, "hello-local-v7-web-7000 on a failed its uptest http. 1 of 2 new procs failed their checks."],
    ["no port", [{ proc: { name: "w", host: "a" }, result: { name: "running", output: "nothing accepts connections on a:7000 (host a) after 4000ms (ECONNREFUSED): proc w was given PORT=7000 and HOST=a; does it listen there?" } }], 1, "w on a did not come up: nothing accepts connections on a:7000 (host a) after 4000ms (ECONNREFUSED): proc w was given PORT=7000 and HOST=a; does it listen there?"],
  ] as const)("%s", (_, failed, total, message) => {
    expect(uptestFailureText(failed, total, 3).message).toBe(message);
  });
});
