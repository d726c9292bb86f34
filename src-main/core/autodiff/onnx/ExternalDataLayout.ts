import { LecternError } from '../../../shared/errors.js'
import { elementCount, ONNX_ELEMENT_TYPES, type OnnxElementType } from './onnxElementTypes.js'

export interface ExternalDataLayoutOptions {
  /**
   * Offset alignment of tensors of at least `largeTensorMinBytes`. ORT memory-maps an external initializer only
   * when its offset is a multiple of the allocation granularity: 64 KiB on Windows, the 4 KiB page elsewhere
   * (onnxruntime `model_saving_options.h`). Defaults to `65536`, which serves every desktop OS.
   */
  largeAlignmentBytes?: number
  /** Tensors at least this long get `largeAlignmentBytes`; smaller ones are read (copied), not mapped. Defaults to `1048576`. */
  largeTensorMinBytes?: number
  /** Offset alignment of smaller tensors (SIMD-friendly, little padding). Defaults to `64`. */
  alignmentBytes?: number
}

export interface ExternalTensorSpec {
  name: string
  elementType: OnnxElementType
  /** Static dims only: the bytes exist before the graph runs. */
  dims: readonly number[]
}

/** Where one tensor's bytes sit in the data file; pass it straight to `OnnxGraphBuilder.addExternalInitializer`. */
export interface ExternalDataEntry extends ExternalTensorSpec {
  /** The data file, relative to the model file's folder (ORT resolves it there when the model is loaded by path). */
  location: string
  offsetBytes: number
  lengthBytes: number
  /** Zero bytes a streaming writer emits after the previous entry (or the file start) before this one. */
  paddingBeforeBytes: number
}

/**
 * Plans one external data file: each tensor gets the next aligned offset, in the order added, so a caller can
 * stream the tensors to a sink (padding, bytes, padding, bytes…) without seeking. Little-endian element bytes,
 * as ONNX `raw_data`. The model proto then holds only (location, offset, length), never the bytes.
 */
export class ExternalDataLayout {
  readonly location: string
  private readonly entryList: ExternalDataEntry[] = []
  private readonly names = new Set<string>()
  private endBytes = 0
  private readonly largeAlignmentBytes: number
  private readonly largeTensorMinBytes: number
  private readonly alignmentBytes: number

  constructor(location: string, { largeAlignmentBytes = 65536, largeTensorMinBytes = 1048576, alignmentBytes = 64 }: ExternalDataLayoutOptions = {}) {
    // ORT refuses absolute locations and ones that leave the model's folder.
    if (location === '' || location.startsWith('/') || location.includes('\\') || /^[A-Za-z]:/.test(location) || location.split('/').includes('..')) {
      throw new LecternError('invalid_argument', `External data location must be a relative path inside the model's folder, got '${location}'`)
    }
    for (const [key, value] of Object.entries({ largeAlignmentBytes, alignmentBytes })) {
      if (!Number.isSafeInteger(value) || value < 1 || (value & (value - 1)) !== 0) {
        throw new LecternError('invalid_argument', `ExternalDataLayout ${key} must be a power of two, got ${value}`)
      }
    }
    this.location = location
    this.largeAlignmentBytes = largeAlignmentBytes
    this.largeTensorMinBytes = largeTensorMinBytes
    this.alignmentBytes = alignmentBytes
  }

  /** Appends a tensor at the next aligned offset and returns its entry. */
  add(spec: ExternalTensorSpec): ExternalDataEntry {
    if (this.names.has(spec.name)) throw new LecternError('invalid_argument', `External tensor '${spec.name}' is already in ${this.location}`)
    for (const d of spec.dims) {
      if (!Number.isSafeInteger(d) || d < 0) throw new LecternError('invalid_argument', `External tensor '${spec.name}' has a bad dim ${d} in [${spec.dims.join(', ')}]`)
    }
    const lengthBytes = elementCount(spec.dims) * ONNX_ELEMENT_TYPES[spec.elementType].bytesPerElement
    const alignment = lengthBytes >= this.largeTensorMinBytes ? this.largeAlignmentBytes : this.alignmentBytes
    const offsetBytes = Math.ceil(this.endBytes / alignment) * alignment
    const entry: ExternalDataEntry = {
      name: spec.name,
      elementType: spec.elementType,
      dims: [...spec.dims],
      location: this.location,
      offsetBytes,
      lengthBytes,
      paddingBeforeBytes: offsetBytes - this.endBytes,
    }
    this.names.add(spec.name)
    this.entryList.push(entry)
    this.endBytes = offsetBytes + lengthBytes
    return entry
  }

  /** Entries in file order. */
  get entries(): readonly ExternalDataEntry[] {
    return this.entryList
  }

  /** The data file's size: the end of the last tensor (no trailing padding). */
  get totalBytes(): number {
    return this.endBytes
  }
}
