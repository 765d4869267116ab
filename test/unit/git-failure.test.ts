import { describe, expect, it } from "vitest";
import { gitFailureIsTransient, repoUnreadableText, type GitFailure } from "../../engine/builds/git-failure.ts";

/** Red-team L3: what the thread says when git cannot read an app's repo (git's own stderr as input). */
const base: GitFailure = { repo: "/srv/pb/hello", stderr: "", timedOut: false, durationMs: 40, hidden: ["/data/.raptor/cache/git/80f1", "/data/.raptor/cache/git"], secrets: [] };

describe("repoUnreadableText", () => {
  it.each<[string, Partial<GitFailure>, string]>([
    [
      "an option-looking repo made a path (the report's input)",
      { repo: "/work/red/playbooks/local/--upload-pack=id>/tmp/pwned3;", stderr: "fatal: repository '/work/red/playbooks/local/--upload-pack=id>/tmp/pwned3;' does not exist\n" },
      "cannot read the repo /work/red/playbooks/local/--upload-pack=id>/tmp/pwned3;: repository '/work/red/playbooks/local/--upload-pack=id>/tmp/pwned3;' does not exist",
    ],
    ["a path that is not there", { repo: "/srv/nothere", stderr: "fatal: repository '/srv/nothere' does not exist\n" }, "cannot read the repo /srv/nothere: repository '/srv/nothere' does not exist"],
    [
      "Raptor's cache paths in git's words are taken out",
      { stderr: "\nfatal: could not create leading directories of '/data/.raptor/cache/git/80f1.tmp-4ed37829': Permission denied\nmore\n" },
      "cannot read the repo /srv/pb/hello: could not create leading directories of 'Raptor's git cache': Permission denied",
    ],
    [
      "the URL's credentials are masked wherever git repeats them",
      { repo: "https://git.example.com/acme/web.git", stderr: "fatal: Authentication failed for 'https://bob:hunter2secret@git.example.com/acme/web.git/'\n", secrets: ["hunter2secret"] },
      "cannot read the repo https://git.example.com/acme/web.git: Authentication failed for 'https://bob:[REDACTED]@git.example.com/acme/web.git/'",
    ],
    ["a timeout", { timedOut: true, durationMs: 900_000, stderr: "" }, "cannot read the repo /srv/pb/hello: git gave no answer within 900 s"],
    ["nothing said", { stderr: "  \n" }, "cannot read the repo /srv/pb/hello: git failed without saying why"],
    ["a hostile server's escapes shown as text", { stderr: "remote: \u001b[2Jhi\u0007\n" }, "cannot read the repo /srv/pb/hello: remote: \\x1b[2Jhi\\x07"],
  ])("%s", (_name, over, text) => {
    expect(repoUnreadableText({ ...base, ...over })).toBe(text);
  });

  it("cuts a long line", () => {
    const text = repoUnreadableText({ ...base, stderr: `fatal: ${"x".repeat(1000)}` });
    expect(text.length).toBeLessThan(400);
    expect(text.endsWith("…")).toBe(true);
  });
});

describe("gitFailureIsTransient", () => {
  it.each<[string, Partial<GitFailure>, boolean]>([
    ["not there", { stderr: "fatal: repository '/srv/nothere' does not exist" }, false],
    ["not allowed", { stderr: "fatal: transport 'ext' not allowed" }, false],
    ["auth", { stderr: "fatal: Authentication failed for 'https://git.example.com/x.git/'" }, false],
    ["refused", { stderr: "fatal: unable to access 'https://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server" }, true],
    ["dns", { stderr: "fatal: unable to access 'https://nohost.invalid/x.git/': Could not resolve host: nohost.invalid" }, true],
    ["dropped", { stderr: "error: RPC failed; curl 56 GnuTLS recv error\nfatal: early EOF" }, true],
    ["timeout", { timedOut: true }, true],
  ])("%s: %s", (_name, over, transient) => {
    expect(gitFailureIsTransient({ ...base, ...over })).toBe(transient);
  });
});
