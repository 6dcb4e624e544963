import { ModelProto, OnnxAttributeType, OnnxDataType, type OnnxDataTypeValue } from './proto';

/** A dimension: a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;

/**
 * Attribute values: a plain number is an INT, a number[] is INTS, a string is
 * a STRING; floats must be wrapped so an integral float is not written as INT.
 */
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

interface TensorMessage { name: string; dims: number[]; dataType: number; rawData: Buffer }
interface NodeMessage { opType: string; name: string; input: string[]; output: string[]; attribute: object[] }
interface ValueInfoMessage { name: string; type: object }

/** Options for {@link GraphBuilder.toBuffer}. */
export interface ModelOptions { opset?: number; producerName?: string; docString?: string; metadata?: Record<string, string> }

/** Encodes values as raw little-endian bytes, independent of the host's byte order. */
function rawBytes(values: ArrayLike<number>, dataType: OnnxDataTypeValue): Buffer {
  const width = dataType === OnnxDataType.INT64 ? 8 : 4;
  const buf = Buffer.alloc(values.length * width);
  for (let i = 0; i < values.length; i++) {
    if (dataType === OnnxDataType.FLOAT) buf.writeFloatLE(values[i], i * 4);
    else if (dataType === OnnxDataType.INT32) buf.writeInt32LE(values[i], i * 4);
    else buf.writeBigInt64LE(BigInt(values[i]), i * 8);
  }
  return buf;
}

function attribute(name: string, value: AttrValue): object {
  if (typeof value === 'number') return { name, type: OnnxAttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: OnnxAttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: OnnxAttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: OnnxAttributeType.FLOAT, f: value.float };
  return { name, type: OnnxAttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, elemType: OnnxDataTypeValue, dims: Dim[]): ValueInfoMessage {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/**
 * Builds an ONNX graph node by node. Node outputs get unique generated names,
 * so graph code reads like ordinary expressions: `g.op('Add', [a, b])`.
 */
export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input and returns its name. */
  input(name: string, elemType: OnnxDataTypeValue, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `value` (a node output) as the graph output `name`. */
  output(value: string, name: string, elemType: OnnxDataTypeValue, dims: Dim[]): void {
    this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a float initializer (weights) and returns its name. */
  weight(name: string, values: ArrayLike<number>, dims: number[]): string {
    return this.tensor(name, values, dims, OnnxDataType.FLOAT);
  }

  /** Adds an anonymous float constant. */
  floats(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    return this.tensor(this.fresh('const_f'), values, dims, OnnxDataType.FLOAT);
  }

  /** Adds an anonymous int64 constant (shapes, axes, indices). */
  ints(values: number[], dims: number[] = [values.length]): string {
    return this.tensor(this.fresh('const_i'), values, dims, OnnxDataType.INT64);
  }

  /** Appends one node with a single output and returns that output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    const out = outputName ?? this.fresh(opType.toLowerCase());
    const attributes = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType, name: `${out}_node`, input: inputs, output: [out], attribute: attributes });
    return out;
  }

  /** Serializes the model (ONNX IR 8, default opset 17). */
  toBuffer(opts: ModelOptions = {}): Buffer {
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opts.opset ?? 17 }],
      producerName: opts.producerName ?? 'atelier',
      producerVersion: '1',
      docString: opts.docString ?? '',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`invalid ONNX model ${this.name}: ${err}`);
    return Buffer.from(ModelProto.encode(ModelProto.fromObject(model)).finish());
  }

  private tensor(name: string, values: ArrayLike<number>, dims: number[], dataType: OnnxDataTypeValue): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== values.length) throw new Error(`tensor ${name}: ${values.length} values for dims [${dims}]`);
    this.initializers.push({ name, dims, dataType, rawData: rawBytes(values, dataType) });
    return name;
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }
}
