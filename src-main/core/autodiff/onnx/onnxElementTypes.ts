import { TensorProto_DataType } from 'onnx-buf'

/** The tensor element types the autodiff emits. bf16 is absent on purpose: no CPU kernels and no Node I/O (specs/onnxruntime-node.md §2). */
export type OnnxElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool'

/** The typed array that holds each element type's values; bool is one byte per element, 0 or 1. */
export interface OnnxTypedArrays {
  float32: Float32Array
  float64: Float64Array
  int64: BigInt64Array
  int32: Int32Array
  bool: Uint8Array
}

/** ONNX `TensorProto.DataType` code and bytes per element, as ONNX stores them in `raw_data` and external files. */
export const ONNX_ELEMENT_TYPES: Record<OnnxElementType, { dataType: TensorProto_DataType; bytesPerElement: number }> = {
  float32: { dataType: TensorProto_DataType.FLOAT, bytesPerElement: 4 },
  float64: { dataType: TensorProto_DataType.DOUBLE, bytesPerElement: 8 },
  int64: { dataType: TensorProto_DataType.INT64, bytesPerElement: 8 },
  int32: { dataType: TensorProto_DataType.INT32, bytesPerElement: 4 },
  bool: { dataType: TensorProto_DataType.BOOL, bytesPerElement: 1 },
}

/** Element count of a static shape; a scalar (`[]`) has one element. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1)
}
