import { isAbsolute, join, resolve } from "node:path";
import { DirectoryBuildStore } from "./store-dir.ts";
import { S3BuildStore } from "./store-s3.ts";
import type { BuildStore } from "./store.ts";

/** Where RAPTOR_BUILD_STORE says builds go: a directory, or a bucket and key prefix. */
export type BuildStoreSpec = { kind: "dir"; dir: string } | { kind: "s3"; bucket: string; prefix: string };

/** Where S3 credentials go instead of a URL (the URL is printed in logs and messages). */
const CREDENTIALS = "give them to the AWS SDK: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE) or the machine's role";

/** Whether a URL carries a user or password (`http://key:secret@host:9000`). */
function hasUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url);
  }
}

/** An S3 bucket name as S3 allows it (3-63 lowercase letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads RAPTOR_BUILD_STORE: unset or empty is `<dataDir>/builds` (the default, as before the
 * variable existed); `s3://bucket[/prefix]` is an S3 bucket; anything else is a directory
 * (relative to the working directory). Throws an Error saying what is wrong with a bad S3 URL;
 * one holding credentials is refused without repeating them.
 */
export function parseBuildStore(value: string | undefined, dataDir: string): BuildStoreSpec {
  const v = value?.trim();
  if (!v) return { kind: "dir", dir: join(dataDir, "builds") };
  if (!/^s3:\/\//i.test(v)) return { kind: "dir", dir: isAbsolute(v) ? v : resolve(v) };
  const [bucket = "", ...rest] = v.slice("s3://".length).split("/");
  // Not echoed: the part before "@" is most likely a key and its secret.
  if (bucket.includes("@")) throw new Error(`RAPTOR_BUILD_STORE holds credentials (\`user:secret@\` before the bucket): remove them and ${CREDENTIALS}`);
  if (!BUCKET.test(bucket)) {
    throw new Error(`RAPTOR_BUILD_STORE=${v}: \`${bucket}\` is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens); write s3://bucket/prefix`);
  }
  return { kind: "s3", bucket, prefix: rest.filter(Boolean).join("/") };
}

/**
 * The build store the environment asks for. S3: the endpoint is RAPTOR_S3_ENDPOINT (an
 * S3-compatible server) or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS; region and
 * credentials come from the SDK's standard variables (AWS_REGION, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, profiles, roles), never from a URL: an endpoint with `user:secret@` is
 * refused. Fetched builds are kept under `<dataDir>/builds`.
 */
export function buildStoreFromEnv(env: NodeJS.ProcessEnv, dataDir: string): BuildStore {
  const spec = parseBuildStore(env.RAPTOR_BUILD_STORE, dataDir);
  if (spec.kind === "dir") return new DirectoryBuildStore(spec.dir);
  const endpoint = env.RAPTOR_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && hasUserInfo(endpoint)) {
    throw new Error(`the S3 endpoint (RAPTOR_S3_ENDPOINT or AWS_ENDPOINT_URL*) holds credentials (\`user:secret@\` before the host): remove them and ${CREDENTIALS}`);
  }
  return new S3BuildStore({
    bucket: spec.bucket,
    prefix: spec.prefix,
    cacheDir: join(dataDir, "builds"),
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  });
}
