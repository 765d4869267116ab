import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { BuildStore } from "./store.ts";

export interface S3BuildStoreOptions {
  bucket: string;
  /** Key prefix, without leading or trailing `/` ("" for the bucket's root). */
  prefix: string;
  /** Local copies of fetched and stored builds (`RAPTOR_DATA/builds`): each worker fetches a build once. */
  cacheDir: string;
  /** An S3-compatible server's URL (RAPTOR_S3_ENDPOINT); AWS's own endpoint when absent. */
  endpoint?: string;
  /** AWS_REGION / AWS_DEFAULT_REGION; us-east-1 when absent (S3-compatible servers mostly ignore it). */
  region?: string;
  /** Explicit credentials (tests); otherwise the SDK's standard chain (AWS_ACCESS_KEY_ID, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Build tarballs as objects `s3://<bucket>/<prefix>/<id>.tar.gz`, with a local copy per worker
 * under `cacheDir`. Path-style addressing (`<endpoint>/<bucket>/<key>`), which every
 * S3-compatible server understands. Checksums are sent only where S3 requires them: newer SDKs
 * otherwise add CRC headers and chunked uploads that S3-compatible servers may refuse.
 */
export class S3BuildStore implements BuildStore {
  readonly where: string;
  private readonly client: S3Client;

  constructor(private readonly o: S3BuildStoreOptions) {
    this.where = `s3://${o.bucket}${o.prefix ? `/${o.prefix}` : ""}`;
    this.client = new S3Client({
      region: o.region ?? "us-east-1",
      endpoint: o.endpoint,
      forcePathStyle: true,
      credentials: o.credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private keyOf(id: string): string {
    return `${this.o.prefix ? `${this.o.prefix}/` : ""}${id}.tar.gz`;
  }

  private cacheOf(id: string): string {
    return join(this.o.cacheDir, `${id}.tar.gz`);
  }

  async put(id: string, file: string): Promise<string> {
    const { size } = await stat(file);
    await this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(id), Body: createReadStream(file), ContentLength: size, ContentType: "application/gzip" }));
    // The worker that built it keeps a copy: its own start jobs need no download.
    await mkdir(this.o.cacheDir, { recursive: true });
    await rename(file, this.cacheOf(id));
    return `s3://${this.o.bucket}/${this.keyOf(id)}`;
  }

  async has(id: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(id) }));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw storeError(err, `could not look for build ${id} in ${this.where}`);
    }
  }

  async fetch(id: string, md5: string): Promise<string | undefined> {
    const local = this.cacheOf(id);
    if (existsSync(local)) return local;
    let body: Readable;
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(id) }));
      body = got.Body as Readable;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw storeError(err, `could not fetch build ${id} from ${this.where}`);
    }
    await mkdir(this.o.cacheDir, { recursive: true });
    // Into a temporary name first: a half-written file must never pass for the build.
    const tmp = `${local}.${randomBytes(4).toString("hex")}.part`;
    const hash = createHash("md5");
    body.on("data", (chunk: Buffer) => hash.update(chunk));
    try {
      await pipeline(body, createWriteStream(tmp));
      const got = hash.digest("hex");
      if (got !== md5) throw new Error(`build ${id} fetched from ${this.where} is corrupt: md5 ${got}, expected ${md5}`);
      await rename(tmp, local);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return local;
  }

  async remove(id: string): Promise<boolean> {
    const there = await this.has(id);
    if (there) await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(id) }));
    await rm(this.cacheOf(id), { force: true });
    return there;
  }

  /** Closes the SDK's connections. */
  destroy(): void {
    this.client.destroy();
  }
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

/** The SDK's error, named after what Raptor was doing (its message never carries credentials). */
function storeError(err: unknown, doing: string): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
  return new Error(`${doing}: ${e?.name ?? "Error"}${status}: ${e?.message ?? String(err)}`);
}
