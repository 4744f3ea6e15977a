/**
 * File plumbing shared by the safetensors reader and writer and by the command line: moving
 * bytes in pieces (one read or write system call moves less than 2 GiB, and a model file may be
 * larger), and finding the file that a path really names before replacing it.
 */
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_CHUNK_BYTES } from "./safetensors-format";

export { DEFAULT_CHUNK_BYTES };

/**
 * Fills `into` with the file's bytes from `position` on (positions are exact up to 2^53).
 * Returns false when the file ends first.
 */
export function readFully(fd: number, into: Uint8Array, position: number, chunkBytes = DEFAULT_CHUNK_BYTES): boolean {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, Math.min(chunkBytes, into.length - done), position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

/** Appends `bytes` to the file at its current position. */
export function writeFully(fd: number, bytes: Uint8Array, chunkBytes = DEFAULT_CHUNK_BYTES): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(chunkBytes, bytes.length - done));
}

/**
 * Appends `bytes` to the file, a chunk at a time; `beforeChunk` runs before each one (the
 * event loop turns in between, so a signal handler can ask to stop, and `beforeChunk` throws).
 */
export async function writeFullyAsync(
  handle: fs.promises.FileHandle,
  bytes: Uint8Array,
  chunkBytes = DEFAULT_CHUNK_BYTES,
  beforeChunk: () => void = () => {},
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    beforeChunk();
    const { bytesWritten } = await handle.write(bytes, done, Math.min(chunkBytes, bytes.length - done));
    done += bytesWritten;
  }
}

/** Linux's limit on symbolic links followed in one lookup. */
const MAX_LINKS = 40;

/**
 * The path a write through `file` lands on: a symbolic link in the last component is followed
 * (to its target, even one that does not exist yet), so that renaming a new file over the
 * result replaces the file the link points to and keeps the link.
 */
export function finalTarget(file: string): string {
  let target = path.resolve(file);
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return target;
      throw err;
    }
    if (!stat.isSymbolicLink()) return target;
    target = path.resolve(path.dirname(target), fs.readlinkSync(target));
  }
  const loop = new Error(`too many levels of symbolic links: ${file}`) as NodeJS.ErrnoException;
  loop.code = "ELOOP";
  throw loop;
}

/** What a file system entry that is not a regular file is, in words. */
export function fileKind(stat: fs.Stats): string {
  if (stat.isFile()) return "a regular file";
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a named pipe (FIFO)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}
