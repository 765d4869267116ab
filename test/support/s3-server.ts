import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** A real S3-compatible server (s3rver: the S3 REST API over files) on loopback, with one bucket. */
export interface S3Server {
  /** http://127.0.0.1:<port>, for RAPTOR_S3_ENDPOINT. */
  endpoint: string;
  bucket: string;
  /** s3rver's fixed account. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/** Starts s3rver on a free loopback port with `bucket` created; close() stops it and removes its files. */
export async function startS3Server(bucket = "raptor-builds"): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), "raptor-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const addr = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    bucket,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
