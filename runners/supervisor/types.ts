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
  /**
   * addProcessGroup then startProcess(wait=false) for each name, in ONE `system.multicall` (one
   * round trip for a host's procs). "Already added/started" is success; otherwise throws the
   * first fault as a SupervisorError naming its method and program (a failed add's BAD_NAME,
   * not the start's that follows it). Resolves once every program has been spawned.
   */
  addAndStart(names: readonly string[]): Promise<void>;
  tailProcessStdoutLog(name: string, offset: number, length: number): Promise<[string, number, boolean]>;
}
