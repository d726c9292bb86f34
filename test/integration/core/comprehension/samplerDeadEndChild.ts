/**
 * Run by LlamaQaGenerator.test.ts in a child Node process (vitest reports any unhandled rejection as a failure,
 * and the point here is a process with no other listener). Banning every `[` token leaves the JSON grammar
 * nothing to start with, so node-llama-cpp raises its sampler dead end; the generator must turn that into an error
 * result, and the next request must work. Prints one JSON line.
 */
import { getLlama, LlamaLogLevel } from 'node-llama-cpp'
import { LlamaQaGenerator } from '../../../../src-main/core/comprehension/generate/LlamaQaGenerator.js'
import { checkGgufForLoading } from '../../../../src-main/core/llm/loadLlamaModel.js'
import { GgufMetadataReader } from '../../../../src-main/core/model/gguf/ggufMetadata.js'
import { TINY_CHUNKS, TINY_LIMITS } from './tinyChunks.js'

const modelPath = process.argv[2] ?? ''
const header = await checkGgufForLoading(modelPath)
const tokens = new GgufMetadataReader(modelPath, header.metadata).stringArray('tokenizer.ggml.tokens')
const openingBracket = tokens.flatMap((piece, id) => (piece.includes('[') || piece === '<0x5B>' ? [id] : []))
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
const base = { modelPath, llama, contexts: 1, contextSize: 1024, maxOutputTokens: 512, bannedTokenPolicy: 'nonAscii' as const, timeoutMs: 60_000, ...TINY_LIMITS }
const stuck = await LlamaQaGenerator.create({ ...base, extraTokenBias: openingBracket })
const request = { chunkId: 1, text: TINY_CHUNKS[0] ?? '', pairs: 2, seed: 1, temperature: 0.8 }
const deadEnd = await stuck.generate(request)
await stuck.close()
const healthy = await LlamaQaGenerator.create(base)
const afterwards = await healthy.generate({ ...request, chunkId: 2 })
await healthy.close()
const summary = (r: typeof deadEnd): object => ({ status: r.status, error: r.error, ms: Math.round(r.ms) })
console.log(JSON.stringify({ deadEnd: summary(deadEnd), afterwards: summary(afterwards), listenersAfterClose: process.listenerCount('unhandledRejection') }))
await llama.dispose()
