/** The child process of sendPacedApart (paced-sender.ts): says ready, takes one burst over IPC, answers with its figures, exits. */
import type { SignedRequest } from "./fake-slack/sender.ts";
import { sendPaced } from "./paced-sender.ts";

process.once("message", (m: { requests: SignedRequest[]; gapMs: number }) => {
  void sendPaced(m.requests, m.gapMs).then((r) => process.send!(r, () => process.exit(0)));
});
process.send!({ ready: true });
