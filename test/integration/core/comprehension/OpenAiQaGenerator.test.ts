import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LlamaContext, LlamaModel, Token, TokenBias } from 'node-llama-cpp'
import { LlamaChatSession, TokenBias as TokenBiasClass } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nonAsciiTokenIds } from '../../../../src-main/core/comprehension/generate/LlamaQaGenerator.js'
import { checkGgufForLoading } from '../../../../src-main/core/llm/loadLlamaModel.js'
import { chatCompletionsUrl, OpenAiQaGenerator } from '../../../../src-main/core/comprehension/generate/OpenAiQaGenerator.js'
import type { QaGenerationRequest } from '../../../../src-main/core/comprehension/generate/QaGenerator.js'
import type { QaJsonSchema } from '../../../../src-main/core/comprehension/generate/qaSchema.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { testLlama } from '../../../support/llamaCpp.js'
import { TINY_CHUNKS, TINY_LIMITS } from './tinyChunks.js'

interface ChatRequestBody {
  model: string
  messages: { role: string; content: string }[]
  temperature: number
  seed: number
  max_tokens: number
  response_format: { type: string; json_schema: { name: string; schema: QaJsonSchema; strict: boolean } }
}

/**
 * A small OpenAI-compatible server: `/v1/chat/completions` runs the tiny GGUF through node-llama-cpp with a
 * grammar built from the request's `response_format` schema, one request at a time, as a llama.cpp server with one
 * slot would. `/failing/...` answers 500 and `/stalling/...` never answers.
 */
class TinyChatServer {
  readonly seen: { body: ChatRequestBody; authorization: string | undefined }[] = []
  maxConcurrent = 0
  private concurrent = 0
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    readonly server: Server,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly tokenBias: TokenBias,
  ) {}

  static async start(modelPath: string): Promise<TinyChatServer> {
    const llama = await testLlama()
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 })
    const context = await model.createContext({ contextSize: 1024, threads: 1 })
    const tokenBias = new TokenBiasClass(model.tokenizer)
    for (const id of nonAsciiTokenIds(await checkGgufForLoading(modelPath), modelPath)) tokenBias.set(id as Token, 'never')
    const server = createServer()
    const instance = new TinyChatServer(server, model, context, tokenBias)
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void instance.handle(request, response))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return instance
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    this.server.close()
    await this.context.dispose()
    await this.model.dispose()
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    if (request.url === '/stalling/v1/chat/completions') return
    if (request.url === '/failing/v1/chat/completions') {
      response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model crashed' } }))
      return
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404).end()
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody
    this.seen.push({ body, authorization: request.headers.authorization })
    this.concurrent++
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent)
    try {
      const completion = await (this.queue = this.queue.then(() => this.complete(body)))
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion))
    } catch (error) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (error as Error).message } }))
    } finally {
      this.concurrent--
    }
  }

  private async complete(body: ChatRequestBody): Promise<object> {
    const llama = await testLlama()
    const grammar = await llama.createGrammarForJsonSchema(body.response_format.json_schema.schema)
    const sequence = this.context.getSequence()
    try {
      const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: body.messages.find((m) => m.role === 'system')?.content ?? '' })
      const before = sequence.tokenMeter.getState()
      const answer = await session.promptWithMeta(body.messages.find((m) => m.role === 'user')?.content ?? '', {
        grammar,
        temperature: body.temperature,
        seed: body.seed,
        maxTokens: body.max_tokens,
        tokenBias: this.tokenBias,
      })
      const used = sequence.tokenMeter.diff(before)
      return {
        id: 'chatcmpl-test',
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.responseText }, finish_reason: answer.stopReason === 'maxTokens' ? 'length' : 'stop' }],
        usage: { prompt_tokens: used.usedInputTokens, completion_tokens: used.usedOutputTokens, total_tokens: used.usedInputTokens + used.usedOutputTokens },
      }
    } finally {
      sequence.dispose()
    }
  }
}

let dir = ''
let server: TinyChatServer

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-openai-'))
  server = await TinyChatServer.start((await writeTinyGgufModel(dir, { architecture: 'llama' })).ggufPath)
})

afterAll(async () => {
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

const request = (chunkId: number): QaGenerationRequest => ({ chunkId, text: TINY_CHUNKS[chunkId % TINY_CHUNKS.length] ?? '', pairs: 2, domain: 'statistics', seed: chunkId, temperature: 0.7 })

describe('OpenAiQaGenerator against a real OpenAI-compatible server', () => {
  it('sends the schema as response_format and parses every answer of the llama.cpp model behind it', async () => {
    const generator = new OpenAiQaGenerator({ endpoint: `${server.url}/v1/`, model: 'tiny-llama', apiKey: 'secret', slots: 2, maxOutputTokens: 400, ...TINY_LIMITS })
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => generator.generate(request(i))))
    for (const result of results) {
      expect(result.status, `${result.error}\n${result.raw}`).toBe('ok')
      expect(result.pairs.length).toBeGreaterThanOrEqual(1)
      expect(result.pairs.length).toBeLessThanOrEqual(2)
      expect(result.outputTokens).toBeGreaterThan(0)
    }
    expect(server.maxConcurrent).toBeLessThanOrEqual(2)
    const sent = server.seen.at(-1)
    expect(sent?.authorization).toBe('Bearer secret')
    expect(sent?.body).toMatchObject({ model: 'tiny-llama', max_tokens: 400, response_format: { type: 'json_schema', json_schema: { name: 'qa_pairs', strict: true } } })
    expect(sent?.body.response_format.json_schema.schema).toMatchObject({ type: 'array', minItems: 1, maxItems: 2 })
    expect(sent?.body.messages.map((m) => m.role)).toEqual(['system', 'user'])
    expect(sent?.body.messages[1]?.content).toContain('about statistics')
    await generator.close()
  })

  it('reports an HTTP 500 as an error with the status and the body', async () => {
    const generator = new OpenAiQaGenerator({ endpoint: `${server.url}/failing`, model: 'x' })
    const result = await generator.generate(request(0))
    expect(result.status).toBe('error')
    expect(result.error).toMatch(/^HTTP 500 .*model crashed/)
  })

  it('reports a server that never answers as a timeout, soon after the limit', async () => {
    const generator = new OpenAiQaGenerator({ endpoint: `${server.url}/stalling/v1`, model: 'x', timeoutMs: 300 })
    const result = await generator.generate(request(0))
    expect(result.status).toBe('timeout')
    expect(result.error).toMatch(/within 300 ms/)
    expect(result.ms).toBeLessThan(300 + 1000)
  })

  it('reports a refused connection and a cancel as errors without throwing', async () => {
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const port = (closed.address() as AddressInfo).port
    closed.close()
    const refused = await new OpenAiQaGenerator({ endpoint: `http://127.0.0.1:${port}`, model: 'x' }).generate(request(0))
    expect(refused.status).toBe('error')
    expect(refused.error).toMatch(/ECONNREFUSED/)
    const controller = new AbortController()
    controller.abort()
    const cancelled = await new OpenAiQaGenerator({ endpoint: `${server.url}/stalling`, model: 'x' }).generate(request(0), controller.signal)
    expect(cancelled).toMatchObject({ status: 'error', error: 'cancelled' })
  })

  it('accepts the endpoint with or without /v1 and refuses what is not a URL', () => {
    expect(chatCompletionsUrl('http://host:8080')).toBe('http://host:8080/v1/chat/completions')
    expect(chatCompletionsUrl('http://host:8080/')).toBe('http://host:8080/v1/chat/completions')
    expect(chatCompletionsUrl('http://host:8080/v1')).toBe('http://host:8080/v1/chat/completions')
    expect(chatCompletionsUrl('https://host/proxy/v1/')).toBe('https://host/proxy/v1/chat/completions')
    expect(() => chatCompletionsUrl('localhost:8080')).toThrow(/not an http/)
    expect(() => chatCompletionsUrl('nonsense')).toThrow(/not a URL/)
  })
})
