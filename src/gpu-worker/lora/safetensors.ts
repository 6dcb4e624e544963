import { halfToFloat } from '../pipeline/half-float';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`
 * and the raw little-endian tensor bytes. Parsing is strict because the files
 * come from users: every offset, size and dtype is checked before use.
 */

/** A malformed safetensors file. Callers map it to their own error code. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor's header entry plus a view of its bytes. */
export interface SafetensorsEntry { dtype: string; shape: number[]; bytes: Buffer }

/** A parsed file: tensors by name and the optional string metadata. */
export interface SafetensorsFile { tensors: Map<string, SafetensorsEntry>; metadata: Record<string, string> }

function fail(message: string): never {
  throw new SafetensorsError(message);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function readHeader(buf: Buffer): { header: Record<string, unknown>; data: Buffer } {
  if (buf.length < 8) fail('file shorter than the 8-byte header length');
  const len = buf.readBigUInt64LE(0);
  if (len > BigInt(Math.min(buf.length - 8, MAX_HEADER_BYTES))) fail(`header length ${len} exceeds the file`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + Number(len)).toString('utf8'));
  } catch {
    fail('header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  return { header: header as Record<string, unknown>, data: buf.subarray(8 + Number(len)) };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
  return value as Record<string, string>;
}

function readEntry(name: string, value: unknown, dataLength: number): { dtype: string; shape: number[]; begin: number; end: number } {
  if (typeof value !== 'object' || value === null) fail(`tensor ${name}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) fail(`tensor ${name}: unsupported dtype ${String(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor ${name}: shape must be non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) fail(`tensor ${name}: bad data_offsets`);
  const [begin, end] = offsets as number[];
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (begin > end || end > dataLength) fail(`tensor ${name}: data_offsets [${begin}, ${end}] outside the data (${dataLength} bytes)`);
  if (end - begin !== numel * DTYPE_BYTES[dtype]) fail(`tensor ${name}: ${end - begin} bytes for shape [${shape}] ${dtype}`);
  return { dtype, shape: shape as number[], begin, end };
}

/** Parses and validates a safetensors buffer. Tensor bytes are views into `buf`. */
export function parseSafetensors(buf: Buffer): SafetensorsFile {
  const { header, data } = readHeader(buf);
  const metadata = readMetadata(header.__metadata__);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => ({ name, ...readEntry(name, value, data.length) }))
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  const tensors = new Map<string, SafetensorsEntry>();
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor ${e.name}: data overlaps the previous tensor`);
    cursor = e.end;
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  }
  return { tensors, metadata };
}

/** Converts a floating-point tensor (F32, F16, BF16, F64) to float32. */
export function toFloat32(entry: SafetensorsEntry): Float32Array {
  const { bytes, dtype } = entry;
  const n = bytes.length / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(i * 4);
  else if (dtype === 'F64') for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(i * 8);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(i * 2));
  else if (dtype === 'BF16') {
    const view = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      view.setUint32(0, bytes.readUInt16LE(i * 2) << 16);
      out[i] = view.getFloat32(0);
    }
  } else fail(`dtype ${dtype} is not a floating-point type`);
  return out;
}

/** A float32 tensor to write. */
export interface Float32TensorData { shape: number[]; data: Float32Array }

/** Serializes float32 tensors (names sorted, header padded to 8 bytes). */
export function writeSafetensors(tensors: Record<string, Float32TensorData>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + numel * 4] };
    offset += numel * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    for (const v of tensors[name].data) {
      out.writeFloatLE(v, pos);
      pos += 4;
    }
  }
  return out;
}
