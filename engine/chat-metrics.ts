/**
 * The two metrics of the bot's acking side (engine/metrics.ts has the rest). Their own module,
 * importing prom-client only, because the Slack bot's acking thread (bin/slack-ack-thread.ts)
 * records them without loading the database or queue code the rest of the registry reads.
 */
import { Counter, Histogram, type Registry } from "prom-client";

/** Seconds from a Slack request's arrival to its ack (Slack gives up at 3 s). */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3];

export interface ChatMetrics {
  /** raptor_slack_ack_duration_seconds: from a Slack request's arrival to the bot's HTTP answer (its ack). */
  readonly slackAckSeconds: Histogram<string>;
  /** raptor_bot_commands_busy_total{limit}: commands refused because the bot was answering its limit (limit: user, overall). */
  readonly commandsBusy: Counter<"limit">;
}

/** The ack-side metrics, registered in `registers` (none: recorded but never served). */
export function createChatMetrics(registers: Registry[]): ChatMetrics {
  return {
    slackAckSeconds: new Histogram({ name: "raptor_slack_ack_duration_seconds", help: "Time from a Slack request's arrival to the bot's HTTP answer (the ack)", buckets: ACK_BUCKETS, registers }),
    commandsBusy: new Counter({ name: "raptor_bot_commands_busy_total", help: "Chat commands refused because the bot was answering as many as it takes at once", labelNames: ["limit"], registers }),
  };
}
