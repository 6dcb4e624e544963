/** Minimal ONNX writer: protobuf schema, a graph builder and reusable layers. */
export { GraphBuilder, type AttrValue, type Dim, type ModelOptions } from './graph-builder';
export { OnnxDataType, type OnnxDataTypeValue } from './proto';
export { conv1x1, linear, coordinateGrid, gaussianBlur, gaussianKernel } from './layers';
