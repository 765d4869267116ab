/**
 * The build store: where build tarballs live so that every worker can start any build. A
 * directory by default (today's `RAPTOR_DATA/builds`, or any directory all workers mount), or an
 * S3 bucket (`RAPTOR_BUILD_STORE=s3://bucket/prefix`) for workers on several machines with no
 * shared disk. A worker that did not build a release fetches its tarball from the store instead
 * of building it again.
 */
export interface BuildStore {
  /** Where builds are kept, for messages: a directory, or `s3://bucket/prefix`. */
  readonly where: string;
  /**
   * Keeps the tarball at `file` as build `id` (the file is moved or uploaded; the caller's copy
   * may be gone afterwards). Overwrites an earlier copy of the same id. Returns the build's
   * location, recorded in `builds.path` (a path, or an `s3://` URL).
   */
  put(id: string, file: string): Promise<string>;
  /** Whether the store holds build `id`. */
  has(id: string): Promise<boolean>;
  /**
   * A file on this machine holding build `id`, fetched from the store when it is not here yet
   * (then checked against `md5`, hex: a corrupt download throws and leaves nothing behind).
   * Undefined when the store does not hold it.
   */
  fetch(id: string, md5: string): Promise<string | undefined>;
  /** Deletes build `id` from the store and any local copy; false when the store did not hold it. */
  remove(id: string): Promise<boolean>;
}
