import type { EngineApiDeps } from "../../engine/context.ts";
import type { Command } from "../command.ts";
import type { Reply } from "../dispatch-types.ts";
import { helpText } from "../help.ts";
import { exampleNames } from "../grammar/names.ts";
import { knownNames } from "../../playbooks/resolve.ts";
import { appsAnswer, configAnswer } from "./catalog.ts";
import { deploysAnswer, releasesAnswer, whoDeployedAnswer } from "./history.ts";
import { hostsAnswer, logsAnswer, statusAnswer } from "./fleet.ts";
import { hostsCheckAnswer } from "./hosts-check.ts";
import { beatAnswer } from "./beat.ts";
import { queueAnswer } from "./queue.ts";
import { showAnswer } from "./show.ts";

export type QueryCommand = Extract<Command, { kind: "status" | "releases" | "logs" | "config" | "apps" | "hosts" | "queue" | "beat" | "help" | "deploys" | "who-deployed" | "show" }>;

/** Answers a question from the database, the playbook and (for status and logs) supervisord live. */
export async function answerQuery(deps: EngineApiDeps, cmd: QueryCommand): Promise<Reply> {
  switch (cmd.kind) {
    case "help":
      // Examples name an app and environment of this playbook, so they can be typed as shown.
      // Raptor's own text: never redacted (its example values are examples, not anyone's secret).
      return { kind: "answer", own: true, title: cmd.topic ? `help ${cmd.topic}` : "Raptor commands", text: helpText(cmd.topic, exampleNames(knownNames(deps.playbook))) };
    case "apps":
      return appsAnswer(deps);
    case "releases":
      return releasesAnswer(deps, cmd.app, cmd.env);
    case "config":
      return configAnswer(deps, cmd.app, cmd.env);
    case "status":
      return statusAnswer(deps, cmd.app, cmd.env);
    case "logs":
      return logsAnswer(deps, cmd);
    case "hosts":
      return cmd.check ? hostsCheckAnswer(deps, cmd.squad) : hostsAnswer(deps, cmd.squad);
    case "queue":
      return queueAnswer(deps);
    case "beat":
      return beatAnswer(deps);
    case "deploys":
      return deploysAnswer(deps, cmd.app, cmd.env, cmd.sinceMs);
    case "who-deployed":
      return whoDeployedAnswer(deps, cmd.app, cmd.env);
    case "show":
      return showAnswer(deps, cmd.id);
    default: {
      const never: never = cmd;
      throw new Error(`unhandled query ${JSON.stringify(never)}`);
    }
  }
}
