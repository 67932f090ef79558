/**
 * Reading an ONNX model file once, front to back, without holding its weights. Every byte goes
 * through the sha256 as it is read (unless the hash is already known: then the weights are not
 * read at all), and the ModelProto is rebuilt on the way with each large initializer's payload
 * left in the file: the tensor keeps its name, type and dims, and its `raw_data` becomes an
 * external-data reference to the same bytes in the same file (location = the file's own name,
 * offset, length), which ONNX Runtime reads itself once the staged graph sits beside a link to the
 * file (see runtime/probedSession.ts stageModel). JavaScript so holds the graph and the small
 * tensors (shape constants, scalars), never a copy of the weights.
 *
 * Only top-level initializers are rewritten; tensors inside nodes (Constant values, an If's
 * branch initializers) and weights stored as typed fields (`float_data`) stay as they are.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Writer } from 'protobufjs';
import { FileCursor } from './fileCursor';

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** ONNX's own external-data writer moves tensors of at least 1 KiB; smaller ones stay inline. */
export const DEFAULT_IN_FILE_THRESHOLD = 1024;

export interface ModelReadOptions {
  /** The file's sha256 when already known: it is not hashed again, and the weights are not read. */
  sha256?: string;
  /** Initializers with at least this many bytes of raw data stay in the file (Infinity: none do). */
  threshold?: number;
}

export interface ModelSkeleton {
  /** The ModelProto with its large initializers referring to their bytes in the file. */
  bytes: Buffer;
  sha256: string;
  /** Size of the file on disk. */
  fileBytes: number;
}

export class ModelFormatError extends Error {}

/** Reads `file` as described above; errors name no file (the caller says which). */
export async function readModelSkeleton(file: string, opts: ModelReadOptions = {}): Promise<ModelSkeleton> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const hash = opts.sha256 ? undefined : createHash('sha256');
    const reader = new SkeletonReader(new FileCursor(handle, size, hash), path.basename(file), opts.threshold ?? DEFAULT_IN_FILE_THRESHOLD);
    const bytes = Buffer.concat(await reader.model());
    return { bytes, sha256: opts.sha256 ?? hash!.digest('hex'), fileBytes: size };
  } finally {
    await handle.close();
  }
}

class SkeletonReader {
  constructor(
    private readonly cur: FileCursor,
    /** The location written into external-data references to the file itself. */
    private readonly location: string,
    private readonly threshold: number,
  ) {}

  /** The ModelProto's fields; only the graph is rebuilt, everything else is copied. */
  async model(): Promise<Buffer[]> {
    return this.fields(this.cur.size, (field) => (field === MODEL_GRAPH ? (end) => this.graph(end) : undefined));
  }

  private graph(end: number): Promise<Buffer[]> {
    return this.fields(end, (field) => (field === GRAPH_INITIALIZER ? (end) => this.tensor(end) : undefined));
  }

  /**
   * The fields up to `end`, copied as they are except length-delimited ones that `rebuild` names a
   * reader for: those are re-encoded with the reader's output (and its new length).
   */
  private async fields(end: number, rebuild: (field: number) => ((end: number) => Promise<Buffer[]>) | undefined): Promise<Buffer[]> {
    const out: Buffer[] = [];
    while (this.cur.pos < end) {
      const { start, tag, field, wire } = await this.fieldKey();
      if (wire !== WIRE_LENGTH_DELIMITED) {
        out.push(Buffer.from(varint(tag)), await this.scalar(wire, start));
        continue;
      }
      const length = this.cur.varint();
      const reader = rebuild(field);
      if (!reader) {
        out.push(Buffer.from(varint(tag)), Buffer.from(varint(length)), await this.cur.take(length));
        continue;
      }
      const inner = await reader(this.cur.pos + length);
      const innerLength = inner.reduce((n, b) => n + b.length, 0);
      out.push(Buffer.from(varint(tag)), Buffer.from(varint(innerLength)), ...inner);
    }
    if (this.cur.pos !== end) throw new ModelFormatError(`a message ends at byte ${this.cur.pos}, past its declared end ${end}`);
    return out;
  }

  /** The next field's key: where the field starts, its number and its wire type. */
  private async fieldKey(): Promise<{ start: number; tag: number; field: number; wire: number }> {
    await this.cur.ensure(20);
    const start = this.cur.pos;
    const tag = this.cur.varint();
    return { start, tag, field: tag >>> 3, wire: tag & 7 };
  }

  /** The value of a field that is not length-delimited, its bytes as they are in the file. */
  private scalar(wire: number, fieldStart: number): Promise<Buffer> {
    if (wire === WIRE_VARINT) return Promise.resolve(this.cur.rawVarint());
    if (wire === WIRE_FIXED64) return this.cur.take(8);
    if (wire === WIRE_FIXED32) return this.cur.take(4);
    throw new ModelFormatError(`unsupported protobuf wire type ${wire} at byte ${fieldStart}`);
  }

  /** A TensorProto: a large `raw_data` stays in the file, referred to by offset and length. */
  private async tensor(end: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let reference: { offset: number; length: number } | undefined;
    while (this.cur.pos < end) {
      const { start, tag, field, wire } = await this.fieldKey();
      if (wire !== WIRE_LENGTH_DELIMITED) {
        const body = await this.scalar(wire, start);
        // A data location after the payload (DEFAULT) would contradict the reference appended at
        // the end; one before it is overridden by that reference (the last value wins).
        if (!(field === TENSOR_DATA_LOCATION && reference)) out.push(Buffer.from(varint(tag)), body);
        continue;
      }
      const length = this.cur.varint();
      if (field === TENSOR_RAW_DATA && length >= this.threshold && !reference) {
        reference = { offset: this.cur.pos, length };
        await this.cur.skip(length);
        continue;
      }
      out.push(Buffer.from(varint(tag)), Buffer.from(varint(length)), await this.cur.take(length));
    }
    if (reference) {
      out.push(Buffer.from(externalReference(this.location, reference.offset, reference.length)));
    }
    return out;
  }
}

/** `external_data` entries and `data_location = EXTERNAL`, as TensorProto fields. */
function externalReference(location: string, offset: number, length: number): Uint8Array {
  const w = new Writer();
  for (const [key, value] of [['location', location], ['offset', String(offset)], ['length', String(length)]]) {
    w.uint32((TENSOR_EXTERNAL_DATA << 3) | WIRE_LENGTH_DELIMITED).fork().uint32((1 << 3) | WIRE_LENGTH_DELIMITED).string(key).uint32((2 << 3) | WIRE_LENGTH_DELIMITED).string(value).ldelim();
  }
  w.uint32((TENSOR_DATA_LOCATION << 3) | WIRE_VARINT).int32(DATA_LOCATION_EXTERNAL);
  return w.finish();
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}
