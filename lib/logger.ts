/**
 * Raptor's one logger interface (engine, notifier, Slack adapter), in pino's calling style (`log.info({ id }, "msg")`),
 * so the composition root's pino logger fits as is. Never pass event payloads (logs, outputs,
 * config) as fields: ids, codes and counts only.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export function errorFields(err: unknown): { err: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: err.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { err: String(err) };
}
