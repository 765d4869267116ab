import type { ChatRequest, Reply } from "../../bot/dispatch-types.ts";

/** 1600 numbered lines of 80 characters (128 kB), the answer to `logs`. */
export const BIG_LOG = Array.from({ length: 1600 }, (_, i) => `line ${String(i).padStart(5, "0")} ${"x".repeat(69)}`).join("\n");

/**
 * A stand-in for bot/dispatch.ts: records requests and answers like the real one would.
 * `hold()` blocks dispatches until released; `delayMs` slows each one down.
 */
export class FakeDispatch {
  requests: ChatRequest[] = [];
  delayMs = 0;
  private gate: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  readonly fn = async (req: ChatRequest): Promise<Reply> => {
    this.requests.push(req);
    for (const w of this.waiters.splice(0)) w();
    if (this.gate) await this.gate;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const [verb, ...rest] = req.text.split(" ");
    if (req.text.length > 1000) return { kind: "parse_error", text: "That command is too long." };
    switch (verb) {
      case "deploy":
        return { kind: "deployment", deploymentId: "d-42", text: `deploying ${rest.join(" ")}` };
      case "status":
        return { kind: "answer", title: `status ${rest[0]}`, text: "web.1  app1:5001  RUNNING" };
      case "logs":
        // 128 kB of log: more than one Slack message holds (issue 11 item 9).
        return { kind: "answer", title: `logs of ${rest.join(" ")}`, text: BIG_LOG, overflow: { keep: "tail", more: "`logs hello local web 50` shows fewer lines.", file: "logs-hello-local.txt" } };
      case "approve":
      case "reject":
        return { kind: "done", text: `${verb}d ${rest[0]}` };
      case "rollback":
        return { kind: "deployment", deploymentId: "d-43", text: `rolling back ${rest.join(" ")}` };
      case "forbidden":
        return { kind: "refused", code: "policy_denied", text: "you may not do that" };
      default:
        return { kind: "parse_error", text: `unknown command \`${verb}\`` };
    }
  };
  /** Dispatches wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((r) => (release = r));
    return () => {
      this.gate = undefined;
      release();
    };
  }
  /** Waits until `n` requests have been dispatched. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${this.requests.length} dispatches`)), timeoutMs);
      const check = () => (this.requests.length >= n ? (clearTimeout(t), resolve()) : this.waiters.push(check));
      check();
    });
  }
}
