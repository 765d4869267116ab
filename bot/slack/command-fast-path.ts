import type { IncomingMessage, ServerResponse } from "node:http";
import { parse } from "node:querystring";
import { HTTPModuleFunctions, verifySlackRequest, type BufferedIncomingMessage, type SlashCommand } from "@slack/bolt";
import { errorFields, type Logger } from "../../lib/logger.ts";
import { readCommandFields, unreadableCommandAck } from "./command-fields.ts";
import { bodyTooLarge, verifiedByGuard } from "./replay-guard.ts";

/** What a slash command is acked with: nothing (an empty 200) or a message for its author (JSON). */
export type SlashCommandAck = Record<string, unknown> | undefined;

export interface CommandFastPathOptions {
  /** Slack's signing secret; each command is verified with Bolt's own verifySlackRequest. */
  signingSecret: string;
  /** The events path (slack/manifest.yaml's request URL), as Bolt's receiver serves it. */
  path: string;
  /** The slash command taken here (`/raptor`); any other goes to Bolt. */
  command: string;
  /** Largest body read, bytes. Default Bolt's (HTTPReceiver's bodyLimit default, 4 MB). */
  bodyLimit?: number;
  logger: Logger;
  /** Takes one verified command and returns its ack. Synchronous: the ack is written right after. */
  onCommand: (command: SlashCommand) => SlashCommandAck;
}

const FORM = "application/x-www-form-urlencoded";

/**
 * Wraps Bolt HTTPReceiver's request listener so `/raptor` slash commands are verified and acked
 * here instead of through Bolt's App (issue 14 item 4): per request Bolt builds a context, runs
 * the global and listener middleware chains, matches every listener and arms a 3 s timer, which
 * under a burst of commands cost the acking loop about as much as the rest of its work. Each step
 * is Bolt's own: its body reader and limit (413 past it), its verifier (signature and five-minute
 * staleness; 401 with no body when either fails, as Bolt answers), its response writer. Only a
 * form-encoded POST to `path` whose `command` field is `command` is taken (a verified one with a
 * field missing or repeated is answered with a refusal for its author); everything else
 * (interactivity, events, url_verification, ssl_check, other commands, other paths) goes to
 * `inner` with the body already read (Bolt reuses a request's `rawBody`). The replay guard
 * (bot/slack/replay-guard.ts) wraps this listener, so it runs first for every request either way.
 */
export function commandFastPath(inner: (req: IncomingMessage, res: ServerResponse) => void, o: CommandFastPathOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = o.bodyLimit ?? HTTPModuleFunctions.defaultBodyLimit;
  const log = o.logger;
  const take = (req: BufferedIncomingMessage, res: ServerResponse): void => {
    const body = req.rawBody.toString();
    const fields = parse(body);
    const ours = fields.command === o.command || (Array.isArray(fields.command) && fields.command.includes(o.command));
    if (!ours || fields.payload !== undefined || fields.ssl_check !== undefined) return inner(req, res);
    // The replay guard in front has verified a signed request already; one it let through unsigned is verified (and refused) here.
    if (!verifiedByGuard(req)) {
      try {
        verifySlackRequest({
          signingSecret: o.signingSecret,
          body,
          headers: {
            "x-slack-signature": HTTPModuleFunctions.getHeader(req, "x-slack-signature"),
            "x-slack-request-timestamp": Number(HTTPModuleFunctions.getHeader(req, "x-slack-request-timestamp")),
          },
        });
      } catch (err) {
        log.warn({ reason: (err as Error).message }, "refused a Slack request");
        return HTTPModuleFunctions.buildNoBodyResponse(res, 401);
      }
    }
    // Verified, so its author is told: a field missing or repeated is refused here (redteam2 N5),
    // never read as a string further on.
    const read = readCommandFields(fields);
    if (!read.ok) {
      log.warn({ reason: read.problem }, "refused a Slack command: unreadable fields");
      return HTTPModuleFunctions.buildContentResponse(res, unreadableCommandAck(read.problem));
    }
    let ack: SlashCommandAck;
    try {
      ack = o.onCommand(read.fields as SlashCommand);
    } catch (err) {
      // What Bolt does when a listener throws before acking.
      log.error(errorFields(err), "Slack listener failed");
      return HTTPModuleFunctions.buildNoBodyResponse(res, 500);
    }
    HTTPModuleFunctions.buildContentResponse(res, ack);
  };
  return (req, res) => {
    if (req.method !== "POST" || req.headers["content-type"] !== FORM || pathOf(req.url) !== o.path) return inner(req, res);
    HTTPModuleFunctions.bufferIncomingMessage(req, limit)
      .then(
        (buffered) => take(buffered, res),
        (err: unknown) => {
          // Bolt's answers to a body it cannot read: 413 past the limit, 401 otherwise.
          const tooLarge = bodyTooLarge(err);
          log.warn({ reason: (err as Error).message }, tooLarge ? "refused a Slack request: body too large" : "refused a Slack request: body unreadable");
          HTTPModuleFunctions.buildNoBodyResponse(res, tooLarge ? 413 : 401);
        },
      )
      // Nothing above should throw; if it does, a 500 and a log line, not an unhandled rejection ending the bot.
      .catch((err: unknown) => {
        log.error(errorFields(err), "Slack request failed");
        if (!res.headersSent) HTTPModuleFunctions.buildNoBodyResponse(res, 500);
      });
  };
}

/** The path of a request URL, without its query; anything unusual is left to Bolt, which normalises with URL. */
function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
