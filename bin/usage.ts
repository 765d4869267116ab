/** `raptor --help`. */
export const USAGE = `usage: raptor <command>
  all              bot (Slack when SLACK_BOT_TOKEN is set, else the terminal chat) + worker + beat
  bot              the chat adapter only
  worker           the deployment worker only
  beat             the maintenance schedule only
  say "<text>"     run one command as the local user, print its thread, follow it to the end
  say -            the same, the command read from stdin: for "config secret" (a secret on the
                   command line is visible to every user in ps, so say refuses it there)
                   exit 0 = success, 1 = failed or refused, 2 = not understood`;
