import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileByteSink, FileByteSource } from '../../../src-main/core/io/fileBytes.js'
import { openModel } from '../../../src-main/core/modelFiles/openModel.js'
import { readGgufHeader } from '../../../src-main/core/model/gguf/readGgufHeader.js'
import { writeGguf } from '../../../src-main/core/model/gguf/writeGguf.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { runCliProcess } from '../../support/cli.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()

/** Rewrites a GGUF with some metadata keys removed, tensors copied byte for byte. */
async function withoutKeys(from: string, to: string, keys: string[]): Promise<void> {
  const source = await FileByteSource.open(from)
  const header = await readGgufHeader(source)
  const metadata = new Map([...header.metadata].filter(([key]) => !keys.includes(key)))
  const sink = await FileByteSink.create(to)
  await writeGguf(sink, metadata, header.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type.name })), {
    tensorData: (_t, i) => source.read(header.tensors[i]!.absoluteOffset, header.tensors[i]!.byteLength),
  })
  await sink.commit()
  await source.close()
}

async function expectOneLineError(args: string[], file: string, problem: RegExp): Promise<void> {
  const result = await runCliProcess(args)
  expect(result.signal).toBeNull()
  expect(result.code).toBe(1)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toContain(`lectern: ${file}`)
  expect(lines[0]).toMatch(problem)
}

describe('lectern model (built CLI)', () => {
  it('inspects a GGUF and an HF folder, as text and JSON', async () => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture: 'qwen2' })
    const json = await runCliProcess(['model', 'inspect', model.ggufPath, '--json'])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({ format: 'gguf', architecture: 'qwen2', chatTemplate: true, typeSummary: { F32: report.parameterCount } })
    expect(report.parameterCount).toBe([...model.weights.values()].reduce((n, w) => n + w.length, 0))
    expect(report.tokenizer).toMatchObject({ kind: 'byte-level BPE (gpt2)', vocabSize: model.hyperparameters.vocabSize })
    const text = await runCliProcess(['model', 'inspect', model.hfDir])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/Format\s+safetensors/)
    expect(text.stdout).toMatch(/Architecture\s+qwen2: 2 layers/)
    expect(text.stdout).toContain('model.layers.1.self_attn.q_proj.bias')
  })

  it('converts HF → GGUF Q8_0 and GGUF → HF from the command line', async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, { architecture: 'llama' })
    const q8 = join(dir, 'q8.gguf')
    expect(await runCliProcess(['model', 'convert', model.hfDir, '--out', q8, '--format', 'gguf', '--type', 'q8_0'])).toMatchObject({ code: 0 })
    const report = JSON.parse((await runCliProcess(['model', 'inspect', q8, '--json'])).stdout)
    expect(Object.keys(report.typeSummary).sort()).toEqual(['F32', 'Q8_0'])
    const back = join(dir, 'back')
    expect(await runCliProcess(['model', 'convert', q8, '--out', back, '--format', 'safetensors', '--type', 'f16'])).toMatchObject({ code: 0 })
    expect(JSON.parse(await readFile(join(back, 'config.json'), 'utf8'))).toMatchObject({ architectures: ['LlamaForCausalLM'], num_hidden_layers: 2 })
    const usage = await runCliProcess(['model', 'convert', q8, '--out', join(dir, 'x.gguf'), '--format', 'gguf', '--type', 'q3_k'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/--type for gguf must be one of f32, f16, bf16, q8_0, q4_k_m, q5_k_m/)
  })

  it('reports bad GGUF files in one line naming the file and the problem', async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, { architecture: 'llama' })
    const bytes = await readFile(model.ggufPath)

    const zip = join(dir, 'zip.gguf')
    await writeFile(zip, Buffer.concat([Buffer.from('PK\x03\x04'), bytes.subarray(4, 200)]))
    await expectOneLineError(['model', 'inspect', zip], zip, /not a GGUF file \(starts with 50 4b 03 04/)

    const cutHeader = join(dir, 'cut-header.gguf')
    await writeFile(cutHeader, bytes.subarray(0, 300))
    await expectOneLineError(['model', 'inspect', cutHeader], cutHeader, /runs past the end of the file: the file is truncated or damaged/)

    const cutData = join(dir, 'cut-data.gguf')
    await writeFile(cutData, bytes.subarray(0, bytes.length - 1000))
    await expectOneLineError(['model', 'inspect', cutData], cutData, /tensor \S+ data \(\d+ bytes at \d+\) runs past the end of the file/)

    // Without these two keys llama.cpp aborts the whole process (specs/node-llama-cpp.md §2); we refuse first.
    const noFfn = join(dir, 'no-ffn.gguf')
    await withoutKeys(model.ggufPath, noFfn, ['llama.feed_forward_length'])
    await expectOneLineError(['model', 'inspect', noFfn], noFfn, /required metadata key llama\.feed_forward_length is missing/)
    const noHeads = join(dir, 'no-heads.gguf')
    await withoutKeys(model.ggufPath, noHeads, ['llama.attention.head_count'])
    await expectOneLineError(['model', 'convert', noHeads, '--out', join(dir, 'o'), '--format', 'safetensors'], noHeads, /llama\.attention\.head_count is missing/)
    const noTokens = join(dir, 'no-tokens.gguf')
    await withoutKeys(model.ggufPath, noTokens, ['tokenizer.ggml.tokens'])
    await expectOneLineError(['model', 'inspect', noTokens], noTokens, /tokenizer\.ggml\.tokens is missing/)

    await expect(openModel(cutData)).rejects.toMatchObject({ code: 'invalid_model_file', file: cutData })
  })

  it('reports bad HF folders in one line naming the file and the problem', async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, { architecture: 'qwen2' })
    const weights = join(model.hfDir, 'model.safetensors')
    const original = await readFile(weights)

    const lying = Buffer.from(original)
    lying.writeBigUInt64LE(10n ** 15n, 0)
    await writeFile(weights, lying)
    await expectOneLineError(['model', 'inspect', model.hfDir], weights, /header length 1000000000000000 exceeds the file size/)

    await writeFile(weights, original.subarray(0, original.length - 10))
    await expectOneLineError(['model', 'inspect', model.hfDir], weights, /\S/)
    await writeFile(weights, original)

    const configPath = join(model.hfDir, 'config.json')
    const config = JSON.parse(await readFile(configPath, 'utf8'))
    await writeFile(configPath, JSON.stringify({ ...config, intermediate_size: 256 }))
    await expectOneLineError(['model', 'inspect', model.hfDir], model.hfDir, /tensor model\.layers\.0\.mlp\.\w+_proj\.weight has shape \[\d+, \d+\], expected/)
    await writeFile(configPath, JSON.stringify({ ...config, architectures: ['PhiForCausalLM'], model_type: 'phi' }))
    await expectOneLineError(['model', 'inspect', model.hfDir], configPath, /unsupported architecture "PhiForCausalLM"; Lectern supports llama, qwen2, qwen3/)
    await writeFile(configPath, '{ not json')
    await expectOneLineError(['model', 'inspect', model.hfDir], configPath, /not valid JSON/)
  })
})
