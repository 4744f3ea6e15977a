/**
 * Safetensors files, for Node: `torch.io` as Node's entry exports it, which is the bytes API of
 * io/index.ts plus saving and loading files.
 *
 * Files go through in chunks, never as one buffer: a file is checked from its first bytes and
 * its header before any tensor data is read, and written from the tensors' own arrays, so model
 * files of any size (over 2 GiB too) are read and written, and a bad one is refused cheaply.
 */
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { DEFAULT_CHUNK_BYTES, fileKind, finalTarget, readFully, writeFully, writeFullyAsync } from "./files";
import {
  type Entry,
  type Plan,
  type RawTensor,
  type SafetensorsContents,
  HOST_LITTLE_ENDIAN,
  SafetensorsError,
  allocateNumeric,
  failFor,
  fileBytes,
  headerLength,
  parseHeader,
  planSafetensors,
  product,
  readTensor,
  setOwn,
  tooShort,
} from "./safetensors-format";
import { checkOptions } from "../options";

export * from "./index";

export interface FileOptions {
  /** The most one read or write call moves (default 64 MiB); files of any size go through in such pieces. */
  chunkBytes?: number;
}

/**
 * What a save reads of an AbortSignal, declared here so that the published types need neither
 * Node's nor the DOM's.
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface SaveOptions extends FileOptions {
  /** An AbortSignal: aborting it stops the write between two chunks, removes the temporary file, and leaves the target as it was. */
  signal?: StopSignal;
}

/** Where a save writes: the file the path names (through a symbolic link) and a temporary file beside it. */
interface Destination {
  target: string;
  tmp: string;
}

/**
 * Plans the file and picks its destination; refuses a target that is not a regular file (a
 * device or a FIFO would be replaced by the rename, a directory cannot be).
 */
function prepareSave(
  file: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): { plan: Plan; where: Destination } {
  let plan: Plan;
  try {
    plan = planSafetensors(tensors, metadata);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${file}: cannot save: ${err.message}`);
    throw err;
  }
  const target = finalTarget(file);
  const existing = statIfExists(target);
  if (existing && !existing.isFile()) {
    throw new SafetensorsError(`${file}: cannot save: it is ${fileKind(existing)}, not a regular file`);
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  return { plan, where: { target, tmp } };
}

function statIfExists(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** The permission bits of the file being replaced, which the new one keeps. */
function modeToKeep(target: string): number | undefined {
  const stat = statIfExists(target);
  return stat ? stat.mode & 0o7777 : undefined;
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // never created, or already gone
  }
}

/** Makes the rename itself durable. Not possible everywhere (Windows), hence best effort. */
function syncDirectory(dir: string): void {
  try {
    const dfd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/**
 * Writes a .safetensors file atomically: the bytes go to a temporary file beside the target,
 * a chunk at a time straight from the tensors' arrays (no copy of the whole file in memory, no
 * size limit), are flushed to disk, and the temporary file is renamed over the target. On any
 * error the temporary file is removed and an existing target is left as it was. Creates missing
 * parent directories; follows a symbolic link to the file it names; refuses a target that
 * exists and is not a regular file.
 */
export function saveSafetensors(
  file: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
  options: FileOptions = {},
): void {
  checkOptions("saveSafetensors", options, ["chunkBytes"]);
  const { plan, where } = prepareSave(file, tensors, metadata);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  let fd: number | undefined;
  try {
    fd = fs.openSync(where.tmp, "wx", 0o666);
    const mode = modeToKeep(where.target);
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    for (const piece of fileBytes(plan, chunkBytes)) writeFully(fd, piece, chunkBytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(where.tmp, where.target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    removeQuietly(where.tmp);
    throw err;
  }
  syncDirectory(path.dirname(where.target));
}

/**
 * saveSafetensors, with the writes done asynchronously so that the event loop turns between
 * chunks: a SIGINT or SIGTERM handler can then abort `options.signal`, and the save stops and
 * removes its temporary file instead of leaving it behind. Rejects with the signal's reason.
 */
export async function saveSafetensorsAsync(
  file: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
  options: SaveOptions = {},
): Promise<void> {
  checkOptions("saveSafetensorsAsync", options, ["chunkBytes", "signal"]);
  const { signal } = options;
  const stopIfAsked = () => {
    if (signal?.aborted) throw signal.reason ?? new SafetensorsError(`${file}: the save was aborted`);
  };
  stopIfAsked();
  const { plan, where } = prepareSave(file, tensors, metadata);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(where.tmp, "wx", 0o666);
    const mode = modeToKeep(where.target);
    if (mode !== undefined) await handle.chmod(mode);
    for (const piece of fileBytes(plan, chunkBytes)) await writeFullyAsync(handle, piece, chunkBytes, stopIfAsked);
    stopIfAsked();
    await handle.sync();
    await handle.close();
    handle = undefined;
    stopIfAsked();
    fs.renameSync(where.tmp, where.target);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => {});
    removeQuietly(where.tmp);
    throw err;
  }
  syncDirectory(path.dirname(where.target));
}

/**
 * Reads and validates a .safetensors file; errors name the file. The file is read in order of
 * need: its first bytes and header are checked (length, nesting, tensor count, offsets against
 * the file's size) before any tensor data is read, and each tensor is then read straight into
 * its own array, so a bad file costs no more than its header and files over 2 GiB load.
 */
export function loadSafetensors(file: string, options: FileOptions = {}): SafetensorsContents {
  checkOptions("loadSafetensors", options, ["chunkBytes"]);
  const fail = failFor(file);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const stat = fs.statSync(file);
  // Opening a FIFO for reading would wait for a writer; a device has no size to check against.
  if (!stat.isFile()) fail(`is ${fileKind(stat)}, not a model file`);
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const read = (length: number, position: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      if (!readFully(fd, bytes, position, chunkBytes)) fail(`truncated: the file shrank while it was read`);
      return bytes;
    };
    if (size < 8) fail(tooShort(size));
    const first = read(Math.min(size, 9), 0);
    const declared = new DataView(first.buffer).getBigUint64(0, true);
    const n = headerLength(declared, size - 8, first[8], fail);
    const layout = parseHeader(read(n, 8), size - 8 - n, fail);
    const tensors: Record<string, RawTensor> = {};
    for (const e of layout.entries) setOwn(tensors, e.name, readTensorFromFile(fd, layout.dataStart, e, chunkBytes, fail));
    return { tensors, metadata: layout.metadata };
  } finally {
    fs.closeSync(fd);
  }
}

function readTensorFromFile(fd: number, dataStart: number, e: Entry, chunkBytes: number, fail: (msg: string) => never): RawTensor {
  const position = dataStart + e.begin;
  const length = e.end - e.begin;
  if (HOST_LITTLE_ENDIAN && (e.dtype === "F32" || e.dtype === "F64" || e.dtype === "I32")) {
    // Straight into the tensor's own array: the bulk of a model is never held twice.
    const data = allocateNumeric(e.dtype, product(e.shape));
    if (!readFully(fd, new Uint8Array(data.buffer), position, chunkBytes)) fail(`truncated: the file shrank while it was read`);
    return { dtype: e.dtype, shape: e.shape, data };
  }
  const bytes = new Uint8Array(length);
  if (!readFully(fd, bytes, position, chunkBytes)) fail(`truncated: the file shrank while it was read`);
  return readTensor(bytes, e, fail);
}
