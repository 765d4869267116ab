/** The part of autocannon (no bundled types) that bench/ack.ts uses. */
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string;
      setupRequest?: (req: Record<string, unknown>, context: Record<string, unknown>) => Record<string, unknown>;
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      requests?: Request[];
    }
    interface Result {
      latency: { p50: number; p90: number; p99: number; max: number; average: number };
      requests: { total: number; average: number };
      non2xx: number;
      errors: number;
      timeouts: number;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
