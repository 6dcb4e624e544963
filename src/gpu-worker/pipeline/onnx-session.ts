import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { PipelineError } from './errors';
import { floatToHalf, halfToFloat } from './half-float';

/**
 * onnxruntime behind a narrow interface: session creation with execution
 * provider fallback, typed feeds (float32/float16, int32/int64) read from the
 * session's own input metadata, and a counter of sessions created so tests can
 * prove that applying LoRAs does not reload the model.
 */

let created = 0;
/** Providers whose libraries failed to load in this process; not retried for every component. */
const unavailable = new Map<string, string>();

/**
 * onnxruntime-node loads GPU providers from shared libraries next to its
 * binding. The npm build ships none for CUDA; asking for it anyway makes
 * onnxruntime print an alarming error on every start. So a GPU provider
 * whose library is absent is skipped up front, with a plain reason.
 */
function missingProviderLibrary(provider: string): string | null {
  const library: Record<string, string> = { cuda: 'libonnxruntime_providers_cuda', tensorrt: 'libonnxruntime_providers_tensorrt' };
  const prefix = library[provider];
  if (!prefix) return null;
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dirs = [path.join(root, 'bin', 'napi-v6', process.platform, process.arch), path.join(root, 'bin', 'napi-v3', process.platform, process.arch)];
    const found = dirs.some((dir) => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(prefix)));
    return found ? null : `this onnxruntime-node build has no ${provider.toUpperCase()} provider library`;
  } catch {
    return null;
  }
}

/** How many InferenceSessions this process has created (test hook). */
export function sessionsCreated(): number {
  return created;
}

/** Session settings chosen for reproducible CPU output on a small machine. */
export interface SessionSettings {
  executionProviders: string[];
  intraOpNumThreads: number;
  /**
   * onnxruntime's CPU memory arena. On, a session keeps the peak of its
   * largest run for its whole life; off, each run's buffers go back to the
   * system as it ends, at some speed (docs/operations.md, "Memory").
   */
  cpuMemArena: boolean;
}

/** The options every session is created with on `provider`. */
function sessionOptions(provider: string, settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: settings.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: settings.cpuMemArena,
  };
}

/** An ONNX component (text encoder, UNet, decoder) and the provider it runs on. */
export class OnnxComponent {
  private readonly inputs: Map<string, ort.InferenceSession.TensorValueMetadata>;

  constructor(readonly session: ort.InferenceSession, readonly executionProvider: string, readonly file: string) {
    this.inputs = new Map();
    for (const m of session.inputMetadata) if (m.isTensor) this.inputs.set(m.name, m);
  }

  /**
   * Tries each execution provider in order (then 'cpu') and keeps the first
   * that creates a session. Deterministic settings: sequential execution,
   * fixed intra-op threads.
   */
  static async load(file: string, settings: SessionSettings): Promise<OnnxComponent> {
    const chain = [...new Set([...settings.executionProviders.map((p) => p.toLowerCase()), 'cpu'])];
    const failures: string[] = [];
    for (const provider of chain) {
      if (!unavailable.has(provider)) {
        const missing = missingProviderLibrary(provider);
        if (missing) unavailable.set(provider, missing);
      }
      const known = unavailable.get(provider);
      if (known) {
        failures.push(`${provider}: ${known}`);
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(file, sessionOptions(provider, settings));
        created += 1;
        return new OnnxComponent(session, provider, file);
      } catch (err) {
        const message = (err as Error).message;
        if (provider !== 'cpu' && /load|not (enabled|supported|available)|unsupported/i.test(message)) unavailable.set(provider, message);
        failures.push(`${provider}: ${message}`);
      }
    }
    // A file the CPU provider cannot even parse is a broken model: retrying cannot help.
    const broken = failures.some((f) => f.startsWith('cpu:') && /protobuf parsing failed|invalid_protobuf|invalid_graph|invalid model|no such file|doesn't exist/i.test(f));
    throw new PipelineError(broken ? 'MODEL_INVALID' : 'MODEL_LOAD_FAILED', `cannot load ${file} (${failures.join('; ')})`);
  }

  hasInput(name: string): boolean {
    return this.inputs.has(name);
  }

  /** The element type the model declares for input `name`. */
  inputType(name: string): ort.Tensor.Type {
    const meta = this.inputs.get(name);
    if (!meta) throw new PipelineError('MODEL_INVALID', `${this.file} has no input ${name}`);
    return meta.type;
  }

  /** The declared shape of input `name` (numbers or symbolic names). */
  inputShape(name: string): ReadonlyArray<number | string> {
    return this.inputs.get(name)?.shape ?? [];
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    try {
      return await this.session.run(feeds);
    } catch (err) {
      throw new PipelineError('INFERENCE_FAILED', `${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A float tensor in the element type a model expects (float32, float16 or double). */
export function floatTensor(type: ort.Tensor.Type, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  if (type === 'float16') return new ort.Tensor('float16', Uint16Array.from(data, floatToHalf), dims);
  if (type === 'float64') return new ort.Tensor('float64', Float64Array.from(data), dims);
  throw new PipelineError('MODEL_INVALID', `unsupported float input type ${type}`);
}

/** An integer tensor (int32 or int64) of the type a model expects. */
export function intTensor(type: ort.Tensor.Type, data: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(data), dims);
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(Array.from(data), (v) => BigInt(v)), dims);
  throw new PipelineError('MODEL_INVALID', `unsupported integer input type ${type}`);
}

/** A timestep tensor: rounded for integer inputs, as-is for float inputs; rank from the model. */
export function timestepTensor(component: OnnxComponent, name: string, t: number): ort.Tensor {
  const type = component.inputType(name);
  const dims = component.inputShape(name).length === 0 ? [] : [1];
  return type.startsWith('int') ? intTensor(type, [Math.round(t)], dims) : floatTensor(type, Float32Array.of(t), dims);
}

/** Reads a float output (float32/float16/float64) as float32. */
export function readFloats(tensor: ort.Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (tensor.type === 'float16') return Float32Array.from(data as Uint16Array, halfToFloat);
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new PipelineError('MODEL_INVALID', `unexpected output type ${tensor.type}`);
}
