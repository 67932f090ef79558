/**
 * Reading a file front to back in chunks, protobuf-style (varints, length-delimited payloads),
 * with every byte read from disk going through a hash exactly once. A payload that is skipped is
 * still hashed (read and dropped) when hashing; without a hash it is not read at all.
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * Bytes per read: large while hashing (every byte is read anyway), small otherwise (a read after a
 * skipped payload would mostly fetch the next payload, only to skip it too).
 */
const HASHING_CHUNK = 4 * 2 ** 20;
const SKIPPING_CHUNK = 64 * 2 ** 10;

export class TruncatedFileError extends Error {}

export class FileCursor {
  /** Read from disk, not yet consumed: `buf[bufPos..]` holds the file's bytes from `pos` on. */
  private buf: Buffer = Buffer.alloc(0);
  private bufPos = 0;
  /** File offset of the next byte to consume. */
  private at = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    private readonly hash: Hash | undefined,
  ) {}

  get pos(): number {
    return this.at;
  }

  private get buffered(): number {
    return this.buf.length - this.bufPos;
  }

  /** Makes at least `n` bytes (fewer at the end of the file) available without another read. */
  async ensure(n: number): Promise<void> {
    const want = Math.min(n, this.size - this.at);
    if (this.buffered >= want) return;
    const length = Math.min(Math.max(want, this.hash ? HASHING_CHUNK : SKIPPING_CHUNK), this.size - this.at);
    const next = Buffer.allocUnsafe(length);
    this.buf.copy(next, 0, this.bufPos);
    await this.readInto(next, this.buffered, this.at + this.buffered);
    this.buf = next;
    this.bufPos = 0;
  }

  /** Fills `target` from `from` on with the file's bytes from `fileOffset`, hashing them. */
  private async readInto(target: Buffer, from: number, fileOffset: number): Promise<void> {
    for (let filled = from; filled < target.length; ) {
      const { bytesRead } = await this.handle.read(target, filled, target.length - filled, fileOffset + filled - from);
      if (bytesRead === 0) throw new TruncatedFileError(`the file ended after ${fileOffset + filled - from} of ${this.size} bytes`);
      this.hash?.update(target.subarray(filled, filled + bytesRead));
      filled += bytesRead;
    }
  }

  /** A varint from the buffer (call `ensure(10)` first); numbers up to 2^53 are exact. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.bufPos >= this.buf.length) throw new TruncatedFileError(`the file ends inside a number at byte ${this.at}`);
      const b = this.buf[this.bufPos++];
      this.at++;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new TruncatedFileError(`a number at byte ${this.at} is longer than ten bytes`);
  }

  /** The bytes of the next varint as they are (call `ensure(10)` first), copied. */
  rawVarint(): Buffer {
    const start = this.bufPos;
    this.varint();
    return Buffer.from(this.buf.subarray(start, this.bufPos));
  }

  /** The next `n` bytes, copied (the chunk they came from is not kept alive by them). */
  async take(n: number): Promise<Buffer> {
    if (this.at + n > this.size) throw new TruncatedFileError(`a field at byte ${this.at} runs ${this.at + n - this.size} bytes past the end of the file`);
    const out = Buffer.allocUnsafe(n);
    const fromBuffer = Math.min(n, this.buffered);
    this.buf.copy(out, 0, this.bufPos, this.bufPos + fromBuffer);
    this.bufPos += fromBuffer;
    this.at += fromBuffer;
    if (fromBuffer < n) {
      await this.readInto(out, fromBuffer, this.at);
      this.at += n - fromBuffer;
    }
    return out;
  }

  /** Moves past the next `n` bytes: read and hashed in chunks when hashing, not read otherwise. */
  async skip(n: number): Promise<void> {
    if (this.at + n > this.size) throw new TruncatedFileError(`a field at byte ${this.at} runs ${this.at + n - this.size} bytes past the end of the file`);
    const fromBuffer = Math.min(n, this.buffered);
    this.bufPos += fromBuffer;
    this.at += fromBuffer;
    let left = n - fromBuffer;
    if (!left) return;
    if (this.hash) {
      const scratch = Buffer.allocUnsafe(Math.min(HASHING_CHUNK, left));
      while (left > 0) {
        const piece = scratch.subarray(0, Math.min(scratch.length, left));
        await this.readInto(piece, 0, this.at);
        this.at += piece.length;
        left -= piece.length;
      }
    } else this.at += left;
    this.buf = Buffer.alloc(0);
    this.bufPos = 0;
  }
}
