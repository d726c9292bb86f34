import { LecternError } from '../../../shared/errors.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../hyperparameters.js'

/**
 * Checks that a model has exactly the tensors its hyper-parameters call for, with the right shapes (PyTorch
 * order). llama.cpp aborts the process on some of these mismatches, so they are caught here first.
 */
export function checkModelTensors(h: ModelHyperparameters, tensors: readonly { name: string; shape: readonly number[] }[], file: string): void {
  const fail: (message: string) => never = (message) => {
    throw new LecternError('invalid_model_file', `${file}: ${message}`, { file })
  }
  const expected = expectedHfTensorShapes(h)
  const present = new Map(tensors.map((t) => [t.name, t.shape]))
  const missing = [...expected.keys()].filter((name) => !present.has(name))
  if (missing.length > 0) fail(`missing tensor${missing.length > 1 ? 's' : ''} ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`)
  for (const [name, shape] of present) {
    const want = expected.get(name)
    if (!want) fail(`unexpected tensor ${name} for a ${h.blockCount}-layer ${h.architecture} model`)
    if (want.length !== shape.length || want.some((d, i) => d !== shape[i])) {
      fail(`tensor ${name} has shape [${shape.join(', ')}], expected [${want.join(', ')}] from the model's hyper-parameters`)
    }
  }
}
