/** One program as supervisord reports it (getAllProcessInfo / getProcessInfo). */
export interface ProcessInfo {
  name: string;
  group: string;
  statename: "STOPPED" | "STARTING" | "RUNNING" | "BACKOFF" | "STOPPING" | "EXITED" | "FATAL" | "UNKNOWN";
  pid: number;
  start: number;
  stop: number;
  exitstatus: number;
  description: string;
  spawnerr: string;
  stdout_logfile: string;
}

/**
 * supervisord's XML-RPC interface, the subset Raptor uses. One real implementation
 * (runners/supervisor/xmlrpc-client.ts, the `xmlrpc` package) tested against a real supervisord.
 */
export interface Supervisor {
  getAllProcessInfo(): Promise<ProcessInfo[]>;
  reloadConfig(): Promise<{ added: string[]; changed: string[]; removed: string[] }>;
  addProcessGroup(name: string): Promise<void>; // "already added" is success
  startProcess(name: string, wait?: boolean): Promise<void>; // "already started" is success
  stopProcess(name: string, wait?: boolean): Promise<void>; // "not running" is success
  removeProcessGroup(name: string): Promise<void>; // "bad name" is success
  tailProcessStdoutLog(name: string, offset: number, length: number): Promise<[string, number, boolean]>;
}
