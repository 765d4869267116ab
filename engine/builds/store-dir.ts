import { existsSync } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BuildStore } from "./store.ts";

/**
 * Build tarballs as files `<dir>/<id>.tar.gz`: the default store (`RAPTOR_DATA/builds`). Workers
 * on several machines share builds through it only when they all mount `dir`.
 */
export class DirectoryBuildStore implements BuildStore {
  readonly where: string;

  constructor(private readonly dir: string) {
    this.where = dir;
  }

  private fileOf(id: string): string {
    return join(this.dir, `${id}.tar.gz`);
  }

  async put(id: string, file: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const final = this.fileOf(id);
    try {
      await rename(file, final);
    } catch (err) {
      // Another filesystem (a mounted store): copy beside the target, then rename into place.
      if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      const tmp = `${final}.${process.pid}.tmp`;
      await copyFile(file, tmp);
      await rename(tmp, final);
      await rm(file, { force: true });
    }
    return final;
  }

  async has(id: string): Promise<boolean> {
    return existsSync(this.fileOf(id));
  }

  async fetch(id: string): Promise<string | undefined> {
    const file = this.fileOf(id);
    return existsSync(file) ? file : undefined;
  }

  async remove(id: string): Promise<boolean> {
    const file = this.fileOf(id);
    const there = await stat(file).then(() => true, () => false);
    await rm(file, { force: true });
    return there;
  }
}
