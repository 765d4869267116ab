import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, type SlashCommand } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Redis } from "ioredis";
import type { ChatRequest, Reply } from "../dispatch-types.ts";
import { answerBlocks, answerText } from "../notify/blocks.ts";
import { errorFields, type Logger } from "../../lib/logger.ts";
import { SlackAuthorizer } from "./authorizer.ts";
import { slackClientOptions, slackLogger } from "./client.ts";
import { answerCommand, replyTarget, sendSafely, type CommandJob } from "./command-job.ts";
import { SlackDirectory } from "./directory.ts";
import { BUTTON_VALUE_PATTERNS } from "./input.ts";
import { commandFastPath, type SlashCommandAck } from "./command-fast-path.ts";
import { jobProblem, readCommandFields, str, unreadableCommandAck } from "./command-fields.ts";
import { claimOnce, dedupeEvents, ignoreBots, onlyDirectMessages } from "./middleware.ts";
import { sendReply, type ReplyTarget } from "./reply.ts";
import { guardListener } from "./replay-guard.ts";
import { busyText, WorkGate, type AdmissionLimits } from "../admission.ts";

export { slackClientOptions } from "./client.ts";

/**
 * Who answers the commands the app admits: in this process (dispatch given to createSlackApp), or
 * the bot's command thread (bot/slack/work-thread.ts), so the event loop that acks does no
 * command work (issue 14 item 4).
 */
export interface CommandAnswerer {
  /** Answers one command; resolves once its reply is sent. Rejects only when the answering side died with it (its author is told here). */
  answer(job: CommandJob): Promise<void>;
  /** A sentence for the author when commands cannot be taken now (the command thread restarting); undefined when they can. */
  unavailable?(): string | undefined;
}

export interface SlackAppOptions {
  /** Bot token (xoxb-...). */
  botToken: string;
  /** Signing secret; every HTTP request is verified with it (Bolt answers 401 otherwise). */
  signingSecret: string;
  /** App-level token (xapp-...). When set, Socket Mode is used instead of HTTP. */
  appToken?: string;
  /** HTTP port for `/slack/events` (0 picks a free one). Unused in Socket Mode. */
  port: number;
  /** Web API base URL. Default `https://slack.com/api/` (tests point it at a fake). */
  slackApiUrl?: string;
  /** Answers admitted commands in this process (dispatch after a directory look-up). Either this or `answerer`. */
  dispatch?: (req: ChatRequest) => Promise<Reply>;
  /** Answers admitted commands elsewhere (the command thread). Either this or `dispatch`. */
  answerer?: CommandAnswerer;
  redis: Redis;
  /** Redis key prefix (dedupe keys). */
  prefix: string;
  logger: Logger;
  /** Users, channels and groups are cached this long. Default 300 000 ms. */
  directoryTtlMs?: number;
  /** Commands answered at once, per person and overall (bot/admission.ts defaults). */
  limits?: AdmissionLimits;
  /** Told of every command refused as busy (metrics). */
  onBusy?: (limit: "user" | "overall") => void;
  /** Told, for every request to the events path, how long the bot took to answer it (its ack), in seconds. */
  onAck?: (seconds: number) => void;
  /** Extra GET routes on the HTTP port (`/metrics`, `/healthz`: engine/observe.ts); the default `/healthz` answers 200. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

export interface SlackApp {
  readonly app: App;
  /** The bot's Web API client (retries and Retry-After configured); give it to the Slack sink. */
  readonly client: WebClient;
  /** Access lists checked against Slack, sharing this app's cache; give it to dispatch. */
  readonly authorizer: SlackAuthorizer;
  readonly directory: SlackDirectory;
  /** Verifies the token (auth.test), then listens. Resolves with the HTTP port (undefined in Socket Mode). */
  start(): Promise<{ port?: number }>;
  stop(): Promise<void>;
}

/** One path for commands, events and interactivity, as in slack/manifest.yaml. */
export const SLACK_EVENTS_PATH = "/slack/events";

/** The slash command Raptor registers (slack/manifest.yaml). */
export const SLASH_COMMAND = "/raptor";

/** What the author of a command reads when the thread answering it died meanwhile. */
const LOST_TEXT =
  "Raptor's command thread stopped while answering that command and is being restarted. It may or may not have been carried out: `queue` and `status` show what is running.";

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const log = opts.logger;
  const logger = slackLogger(log);
  const clientOptions = slackClientOptions(opts.slackApiUrl, logger);
  // convoStore false: Bolt's default conversation store reads a memory map on every request (2-3 %
  // of the acking loop's CPU under bench/ack's burst), for a context.conversation Raptor never reads.
  const common = { token: opts.botToken, logger, clientOptions, deferInitialization: true, ignoreSelf: true, convoStore: false } as const;
  const socketMode = opts.appToken !== undefined && opts.appToken !== "";
  const receiver = socketMode
    ? undefined
    : new HTTPReceiver({
        signingSecret: opts.signingSecret,
        endpoints: SLACK_EVENTS_PATH,
        logger,
        // Ack first, work after: Slack wants an answer within 3 s.
        processBeforeResponse: false,
        customRoutes: Object.entries(opts.routes ?? { "/healthz": (_req: IncomingMessage, res: ServerResponse) => (res.writeHead(200), res.end("ok")) }).map(([path, handler]) => ({ path, method: ["GET"], handler })),
      });
  // The bot's user id for the fast path's commands (Bolt's listeners get it in their context): read in start().
  let botUserId: string | undefined;
  if (receiver) {
    // `/raptor` commands are verified and acked without Bolt's App (bot/slack/command-fast-path.ts).
    receiver.requestListener = commandFastPath(receiver.requestListener, {
      signingSecret: opts.signingSecret,
      path: SLACK_EVENTS_PATH,
      command: SLASH_COMMAND,
      logger: log,
      onCommand: (command) => takeSlashCommand(command, botUserId),
    });
    // Malformed signature headers, bad signatures, replays and future timestamps are refused
    // before either the fast path or Bolt sees the request; only verified signatures are stored.
    receiver.requestListener = guardListener(receiver.requestListener, [SLACK_EVENTS_PATH].flat(), {
      signingSecret: opts.signingSecret,
      redis: opts.redis,
      prefix: opts.prefix,
      onRefused: (reason) => log.warn({ reason }, "refused a Slack request"),
    });
    if (opts.onAck) {
      const onAck = opts.onAck;
      const inner = receiver.requestListener;
      receiver.requestListener = (req, res) => {
        const t0 = performance.now();
        if (req.method === "POST") res.once("finish", () => onAck((performance.now() - t0) / 1000));
        inner(req, res);
      };
    }
  }
  const app = receiver ? new App({ ...common, receiver }) : new App({ ...common, appToken: opts.appToken!, socketMode: true });
  const directory = new SlackDirectory({ client: app.client, log, ...(opts.directoryTtlMs !== undefined ? { ttlMs: opts.directoryTtlMs } : {}) });
  const authorizer = new SlackAuthorizer(directory, log);

  app.error(async (err) => {
    log.error(errorFields(err), "Slack listener failed");
  });
  app.use(ignoreBots);
  app.use(dedupeEvents(opts.redis, opts.prefix, log));

  const gate = new WorkGate(opts.limits);
  // Busy answers to events and buttons cost a Web API call each; they are capped too, and past the
  // cap a refused command is only logged (a slash command's busy answer rides on its ack, free).
  let busyReplies = 0;
  /**
   * Admits one command, or tells its author at once that Raptor is busy and returns undefined.
   * The returned function must be called when the command's reply has been sent.
   */
  function admit(user: string, target: ReplyTarget): (() => void) | undefined {
    const a = gate.enter(user);
    let refusal: Reply;
    if (a.ok) {
      const down = unavailable();
      if (!down) return a.done;
      a.done();
      refusal = down;
    } else {
      opts.onBusy?.(a.limit);
      refusal = { kind: "refused", code: "busy", text: busyText(a) };
    }
    if (busyReplies >= gate.limits.overall) {
      log.warn({ user, ...(a.ok ? {} : { limit: a.limit }) }, "busy: command dropped without an answer");
      return undefined;
    }
    busyReplies++;
    void sendReply(app.client, target, refusal)
      .catch((err) => log.error({ user, ...errorFields(err) }, "could not send a busy answer on Slack"))
      .finally(() => busyReplies--);
    return undefined;
  }

  const answerer: CommandAnswerer =
    opts.answerer ??
    (() => {
      if (!opts.dispatch) throw new Error("createSlackApp needs dispatch or answerer");
      const deps = { dispatch: opts.dispatch, directory, client: app.client, log };
      return { answer: (job: CommandJob) => answerCommand(deps, job) };
    })();

  /**
   * Has the answerer answer one job, then calls `done` (the admission's release); if the answerer
   * died with it, the author is told so from here. Not awaited by the listener: Bolt's request
   * objects are let go at the ack instead of living (and being copied by the GC) until the answer.
   */
  function answer(job: CommandJob, done: () => void): void {
    // Each listener reads only strings; this is the last check before the job crosses to the
    // command thread, where a non-string once killed the thread (redteam2 N5).
    const problem = jobProblem(job);
    if (problem) {
      log.warn({ reason: problem }, "refused a Slack request: unreadable fields");
      done();
      return;
    }
    void answerer
      .answer(job)
      .catch(async (err: unknown) => {
        log.error({ user: job.user, channel: job.channel, ...errorFields(err) }, "the command thread died answering a command");
        await sendSafely(app.client, replyTarget(job), { kind: "refused", code: "internal", text: LOST_TEXT }, log, job);
      })
      .finally(done);
  }

  /** The refusal for a command that cannot be taken now, or undefined. */
  function unavailable(): Reply | undefined {
    const why = answerer.unavailable?.();
    return why ? { kind: "refused", code: "busy", text: why } : undefined;
  }

  /**
   * Takes one `/raptor` command: admits it and hands it to the answerer, or refuses it. Returns
   * the ack's body: nothing when admitted, the refusal (shown at once to the author only, no
   * extra request) when not. Bolt's listener and the fast path (bot/slack/command-fast-path.ts) share it.
   */
  function takeSlashCommand(command: SlashCommand, botUserId: string | undefined): SlashCommandAck {
    const admitted = gate.enter(command.user_id);
    if (!admitted.ok) {
      opts.onBusy?.(admitted.limit);
      const busy: Reply = { kind: "refused", code: "busy", text: busyText(admitted) };
      return { response_type: "ephemeral", text: answerText(busy), blocks: answerBlocks(busy) };
    }
    const down = unavailable();
    if (down) {
      admitted.done();
      return { response_type: "ephemeral", text: answerText(down), blocks: answerBlocks(down) };
    }
    const isDm = command.channel_id.startsWith("D") || command.channel_name === "directmessage";
    answer(
      {
        text: command.text,
        user: command.user_id,
        userName: command.user_name,
        channel: command.channel_id,
        ...(isDm ? {} : { channelName: command.channel_name }),
        isDm,
        reply: { source: "command", channel: command.channel_id, user: command.user_id, responseUrl: command.response_url },
        ...(botUserId ? { botUserId } : {}),
      },
      admitted.done,
    );
    return undefined;
  }

  app.command(SLASH_COMMAND, async ({ command, ack, context }) => {
    // Over HTTP the fast path takes `/raptor`; this listener serves Socket Mode, with the same check.
    const read = readCommandFields(command as unknown as Record<string, unknown>);
    if (!read.ok) {
      log.warn({ reason: read.problem }, "refused a Slack command: unreadable fields");
      await ack(unreadableCommandAck(read.problem));
      return;
    }
    await ack(takeSlashCommand(read.fields as SlashCommand, context.botUserId) as Parameters<typeof ack>[0]);
  });

  app.event("app_mention", async ({ event, context }) => {
    // Slack's JSON, read as strings only (a non-string field is ignored like a missing one).
    const user = str(event.user);
    const channel = str(event.channel);
    const text = str(event.text);
    const ts = str(event.thread_ts) ?? str(event.ts);
    if (!user || !channel || text === undefined || !ts) return;
    const threadTs = str(event.thread_ts);
    const target: ReplyTarget = { source: "mention", channel, user, threadTs: ts };
    const done = admit(user, target);
    if (!done) return;
    answer({ text, user, channel, isDm: false, ...(threadTs ? { threadTs } : {}), reply: target, ...(context.botUserId ? { botUserId: context.botUserId } : {}) }, done);
  });

  app.event("message", onlyDirectMessages, async ({ event, context }) => {
    const m = event as { user?: unknown; text?: unknown; channel?: unknown; thread_ts?: unknown };
    const user = str(m.user);
    const channel = str(m.channel);
    const text = str(m.text);
    const threadTs = str(m.thread_ts);
    if (!user || !channel || text === undefined) return;
    const target: ReplyTarget = { source: "dm", channel, user, ...(threadTs ? { threadTs } : {}) };
    const done = admit(user, target);
    if (!done) return;
    answer({ text, user, channel, isDm: true, ...(threadTs ? { threadTs } : {}), reply: target, ...(context.botUserId ? { botUserId: context.botUserId } : {}) }, done);
  });

  app.action({ type: "block_actions", action_id: /^raptor_(approve|reject|rollback|confirm)$/ }, async ({ ack, body, action }) => {
    await ack();
    if (action.type !== "button") return;
    // RegExp.test coerces its argument (["approve x"] passes), so the value must be a string first.
    const value = str(action.value) ?? "";
    const channel = str(body.channel?.id) ?? str(body.container?.channel_id);
    const userId = str(body.user?.id);
    if (!BUTTON_VALUE_PATTERNS[action.action_id]?.test(value) || !channel || !userId) {
      log.warn({ actionId: action.action_id, user: userId }, "button with an unexpected value ignored");
      return;
    }
    // A double click must not queue two rollbacks: one press per person and value per 10 s.
    if (!(await claimOnce(opts.redis, `${opts.prefix}slack:press:${userId}:${value}`, 10))) return;
    const message = body.message as { ts?: unknown; thread_ts?: unknown } | undefined;
    const threadTs = str(message?.thread_ts) ?? str(message?.ts) ?? str(body.container?.thread_ts);
    const userName = str(body.user?.name);
    const target: ReplyTarget = { source: "action", channel, user: userId, ...(threadTs ? { threadTs } : {}) };
    const done = admit(userId, target);
    if (!done) return;
    answer({ text: value, user: userId, ...(userName ? { userName } : {}), channel, isDm: channel.startsWith("D"), ...(threadTs ? { threadTs } : {}), reply: target }, done);
  });

  return {
    app,
    client: app.client,
    authorizer,
    directory,
    async start() {
      await app.init();
      if (socketMode) {
        await app.start();
        log.info({ mode: "socket" }, "Slack app connected");
        return {};
      }
      botUserId = (await app.client.auth.test()).user_id;
      const server = (await app.start(opts.port)) as Server;
      const port = (server.address() as AddressInfo).port;
      log.info({ mode: "http", port, path: SLACK_EVENTS_PATH }, "Slack app listening");
      return { port };
    },
    async stop() {
      await app.stop();
    },
  };
}
