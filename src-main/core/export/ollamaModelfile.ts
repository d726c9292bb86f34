/**
 * Writes an Ollama Modelfile for an exported GGUF: FROM, a TEMPLATE in Ollama's Go template syntax that renders
 * the prompt format the model was trained on, its stop tokens, an optional SYSTEM and sampling parameters.
 *
 * The prompt format is recognised from the GGUF's Jinja `tokenizer.chat_template` by its marker tokens. Each
 * family's TEMPLATE walks `.Messages`, so multi-turn chats render like the Jinja template does; system messages
 * stay in `.Messages` (Ollama keeps them there and also joins them into `.System`). No template writes the BOS
 * token at the start: llama.cpp adds it when the GGUF asks for it, as with Ollama's own templates.
 *
 * Quoting follows Ollama's Modelfile parser (parser/parser.go), which has no escape sequences: a value in `"…"`
 * or `"""…"""` is taken verbatim between the outer quotes, and a value ends at the first line break where the
 * text read so far is a complete quoted value. So `"` inside a value needs no backslash (one would be kept
 * literally); values holding quotes go in triple quotes, and the one shape a triple-quoted value cannot hold, a
 * line whose text so far ends in `"""`, is rewritten (in TEMPLATE without changing what it renders).
 */

/** Prompt formats this writer knows. `plain` is the generic fallback for an unknown or missing template. */
export type OllamaPromptFamily = 'chatml' | 'phi4' | 'llama3' | 'llama2' | 'mistral' | 'gemma' | 'phi3' | 'zephyr' | 'plain'

/** The GGUF's special tokens, as text (the vocabulary entries of its BOS, EOS and end-of-turn ids). */
export interface OllamaSpecialTokens {
  bos: string
  eos: string
  /** Further end-of-turn / end-of-generation tokens (`<|eot_id|>`, `<|eom_id|>`, `<end_of_turn>`…). */
  eot?: readonly string[]
}

/** Sampling and runtime options written as `PARAMETER` lines; names and types are Ollama's. */
export interface OllamaParameters {
  temperature?: number
  top_k?: number
  top_p?: number
  min_p?: number
  typical_p?: number
  repeat_penalty?: number
  repeat_last_n?: number
  presence_penalty?: number
  frequency_penalty?: number
  seed?: number
  num_ctx?: number
  num_predict?: number
  num_keep?: number
  /** Extra stop strings, written after the family's own. */
  stop?: readonly string[]
}

export interface OllamaModelfileOptions {
  /** The GGUF's file name (or a path relative to the Modelfile's folder, or an absolute path). */
  ggufFileName: string
  /** The GGUF's `tokenizer.chat_template` (Jinja), or null when it has none. */
  chatTemplate: string | null
  tokens: OllamaSpecialTokens
  /** Written as `SYSTEM`; omitted when absent or blank. */
  systemPrompt?: string
  parameters?: OllamaParameters
}

export interface OllamaModelfile {
  /** The Modelfile, ending in a newline. */
  text: string
  family: OllamaPromptFamily
  /** Things the user should know: a fallback format, a system prompt the model may not support, rewritten text. */
  warnings: string[]
}

const FAMILY_LABELS: Record<OllamaPromptFamily, string> = {
  chatml: 'ChatML (<|im_start|> … <|im_end|>; Qwen, Hermes, SmolLM and others)',
  phi4: 'Phi-4 (<|im_start|>role<|im_sep|> … <|im_end|>)',
  llama3: 'Llama 3 (<|start_header_id|> … <|eot_id|>)',
  llama2: 'Llama 2 chat ([INST] <<SYS>> … [/INST])',
  mistral: 'Mistral instruct ([INST] … [/INST])',
  gemma: 'Gemma (<start_of_turn> … <end_of_turn>)',
  phi3: 'Phi-3 (<|user|> … <|end|>)',
  zephyr: 'Zephyr (<|user|> … </s>)',
  plain: 'generic fallback (### User / ### Assistant)',
}

/** Recognises the prompt format of a Jinja chat template by its marker tokens; `plain` when none matches. */
export function detectPromptFamily(chatTemplate: string | null): OllamaPromptFamily {
  if (chatTemplate === null || chatTemplate.trim() === '') return 'plain'
  const t = chatTemplate
  if (t.includes('<|start_header_id|>')) return 'llama3'
  if (t.includes('<|im_start|>')) return t.includes('<|im_sep|>') ? 'phi4' : 'chatml'
  if (t.includes('<start_of_turn>')) return 'gemma'
  if (t.includes('[INST]')) return t.includes('<<SYS>>') ? 'llama2' : 'mistral'
  // GLM writes <|user|>/<|assistant|> too, with its own prefix and no closing token: not Phi-3 or Zephyr.
  if (t.includes('<|assistant|>') && !t.includes('[gMASK]')) {
    // Phi-3 may build the role markers as '<|' + role + '|>', so only its <|end|> is sure to be literal.
    if (t.includes('<|end|>')) return 'phi3'
    if (t.includes('<|user|>')) return 'zephyr'
  }
  return 'plain'
}

/** Builds the Modelfile text for a GGUF; see the module comment for the format and quoting rules. */
export function ollamaModelfile(options: OllamaModelfileOptions): OllamaModelfile {
  const { ggufFileName, chatTemplate, tokens, systemPrompt, parameters = {} } = options
  const warnings: string[] = []
  const family = detectPromptFamily(chatTemplate)

  if (family === 'plain') {
    warnings.push(
      chatTemplate === null || chatTemplate.trim() === ''
        ? 'The GGUF has no chat template, so the Modelfile uses a generic "### User / ### Assistant" prompt format. ' +
            'It works, but the model may answer better with the format it was trained on: edit TEMPLATE to match it.'
        : 'The GGUF chat template is not one of the known formats (ChatML, Llama 2/3, Mistral, Gemma, Phi-3/4, Zephyr), ' +
            'so the Modelfile uses a generic "### User / ### Assistant" prompt format. It works, but the model may ' +
            'answer better with its own format: edit TEMPLATE to match the chat template.',
    )
  }
  const system = systemPrompt !== undefined && systemPrompt.trim() !== '' ? systemPrompt : undefined
  if (system !== undefined && chatTemplate !== null && family !== 'plain' && !jinjaAcceptsSystem(chatTemplate)) {
    warnings.push(
      "The model's chat template has no system role; the Modelfile folds SYSTEM into a user turn, " +
        'which the model may follow only loosely.',
    )
  }
  if (tokens.eos === '') warnings.push('The GGUF names no EOS token; generation stops only at the prompt format\'s own markers.')

  const lines: string[] = [
    '# Ollama Modelfile written by Lectern. Build the model with: ollama create <name> -f Modelfile',
    `# Prompt format: ${FAMILY_LABELS[family]}`,
    `FROM ${fromPath(ggufFileName)}`,
    '',
    `TEMPLATE ${quoteValue(protectTemplateLineEnds(goTemplate(family, tokens, chatTemplate ?? '')))}`,
  ]
  if (system !== undefined) {
    const safe = protectTextLineEnds(system)
    if (safe !== system) {
      warnings.push(
        'SYSTEM has a line ending in """, which an Ollama Modelfile cannot hold; the last quote of each such run ' +
          'was written as \u201D.',
      )
    }
    lines.push('', `SYSTEM ${quoteValue(safe)}`)
  }

  const parameterLines = [
    ...uniqueNonEmpty([...familyStops(family, tokens), ...(parameters.stop ?? [])]).map((stop) => `PARAMETER stop ${quoteStop(stop)}`),
    ...numericParameters(parameters),
  ]
  if (parameterLines.length > 0) lines.push('', ...parameterLines)
  return { text: lines.join('\n') + '\n', family, warnings }
}

/** The Go template for a family. Only plain text, actions and `{{ "…" }}` literals; no whitespace trimming. */
function goTemplate(family: OllamaPromptFamily, tokens: OllamaSpecialTokens, chatTemplate: string): string {
  const eos = literal(tokens.eos)
  const bos = literal(tokens.bos)
  switch (family) {
    case 'chatml':
      return '{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n'
    case 'phi4':
      return '{{ range .Messages }}<|im_start|>{{ .Role }}<|im_sep|>{{ .Content }}<|im_end|>{{ end }}<|im_start|>assistant<|im_sep|>'
    case 'llama3':
      return (
        '{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n'
      )
    case 'llama2':
      // The system text joins the first user turn inside <<SYS>>; each later turn reopens with BOS.
      return (
        '{{ $system := .System }}{{ range .Messages }}' +
        '{{ if eq .Role "user" }}[INST] {{ if $system }}<<SYS>>\n{{ $system }}\n<</SYS>>\n\n{{ $system = "" }}{{ end }}' +
        '{{ .Content }} [/INST]' +
        `{{ else if eq .Role "assistant" }} {{ .Content }} ${eos}${bos}{{ end }}{{ end }}`
      )
    case 'mistral': {
      // As Mistral's own templates do, the system text goes in front of the last user message.
      const { open, close, answer } = mistralSpacing(chatTemplate)
      return (
        '{{ range $i, $_ := .Messages }}' +
        `{{ if eq .Role "user" }}${open}{{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}\n\n{{ end }}` +
        `{{ .Content }}${close}` +
        `{{ else if eq .Role "assistant" }}${answer}{{ .Content }}${eos}{{ end }}{{ end }}`
      )
    }
    case 'gemma':
      // Gemma has no system turn: the system text opens the first user turn.
      return (
        '{{ $system := .System }}{{ range .Messages }}' +
        '{{ if eq .Role "user" }}<start_of_turn>user\n{{ if $system }}{{ $system }}\n\n{{ $system = "" }}{{ end }}' +
        '{{ .Content }}<end_of_turn>\n' +
        '{{ else if eq .Role "assistant" }}<start_of_turn>model\n{{ .Content }}<end_of_turn>\n{{ end }}{{ end }}' +
        '<start_of_turn>model\n'
      )
    case 'phi3':
      return '{{ range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n'
    case 'zephyr':
      return `{{ range .Messages }}<|{{ .Role }}|>\n{{ .Content }}${eos}\n{{ end }}<|assistant|>\n`
    case 'plain':
      return (
        '{{ range .Messages }}{{ if eq .Role "system" }}{{ .Content }}\n\n' +
        '{{ else if eq .Role "user" }}### User:\n{{ .Content }}\n\n' +
        `{{ else if eq .Role "assistant" }}### Assistant:\n{{ .Content }}${eos}\n\n{{ end }}{{ end }}` +
        '### Assistant:\n'
      )
  }
}

/**
 * Mistral's templates differ only in spaces: v0.1 writes `[INST] q [/INST]a`, v0.3 `[INST] q[/INST] a`, and the
 * Tekken ones (Nemo and later) `[INST]q[/INST]a`.
 */
function mistralSpacing(chatTemplate: string): { open: string; close: string; answer: string } {
  const open = chatTemplate.includes('[INST] ')
  const close = chatTemplate.includes(' [/INST]')
  if (!open) return { open: '[INST]', close: '[/INST]', answer: '' }
  return close ? { open: '[INST] ', close: ' [/INST]', answer: '' } : { open: '[INST] ', close: '[/INST]', answer: ' ' }
}

/** The family's turn markers that must end generation, then the model's end-of-turn tokens and its EOS. */
function familyStops(family: OllamaPromptFamily, tokens: OllamaSpecialTokens): string[] {
  const own: Record<OllamaPromptFamily, string[]> = {
    chatml: ['<|im_end|>', '<|im_start|>'],
    phi4: ['<|im_end|>', '<|im_start|>', '<|im_sep|>'],
    llama3: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>'],
    llama2: ['[INST]', '[/INST]', '<<SYS>>', '<</SYS>>'],
    mistral: ['[INST]', '[/INST]'],
    gemma: ['<end_of_turn>', '<start_of_turn>'],
    phi3: ['<|end|>', '<|user|>', '<|assistant|>', '<|system|>'],
    zephyr: ['<|user|>', '<|assistant|>', '<|system|>'],
    plain: ['### User:'],
  }
  return [...own[family], ...(tokens.eot ?? []), tokens.eos]
}

/**
 * Whether a Jinja chat template takes system messages: it names them, or writes every message's role as text
 * (ChatML's `'<|im_start|>' + message['role']`), and does not raise on them.
 */
function jinjaAcceptsSystem(chatTemplate: string): boolean {
  if (/raise_exception\(\s*['"][^'"]*\bsystem\b[^'"]*\bnot supported/i.test(chatTemplate)) return false
  return /system/i.test(chatTemplate) || /\+\s*message(\[\s*['"]role['"]\s*\]|\.role)\s*\+/.test(chatTemplate)
}

const INTEGER_PARAMETERS = ['top_k', 'repeat_last_n', 'seed', 'num_ctx', 'num_predict', 'num_keep'] as const
const PARAMETER_ORDER: readonly (keyof OllamaParameters)[] = [
  'temperature', 'top_k', 'top_p', 'min_p', 'typical_p', 'repeat_penalty', 'repeat_last_n',
  'presence_penalty', 'frequency_penalty', 'seed', 'num_ctx', 'num_predict', 'num_keep',
]

/** `PARAMETER name value` for each numeric option set, in a fixed order; rejects what Ollama would reject. */
function numericParameters(parameters: OllamaParameters): string[] {
  for (const key of Object.keys(parameters)) {
    if (key !== 'stop' && !PARAMETER_ORDER.includes(key as keyof OllamaParameters)) {
      throw new RangeError(`ollamaModelfile: unknown Ollama parameter "${key}"`)
    }
  }
  const out: string[] = []
  for (const key of PARAMETER_ORDER) {
    const value = parameters[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`ollamaModelfile: parameter ${key} must be a finite number, got ${String(value)}`)
    }
    if ((INTEGER_PARAMETERS as readonly string[]).includes(key) && !Number.isInteger(value)) {
      throw new RangeError(`ollamaModelfile: parameter ${key} must be an integer, got ${value}`)
    }
    if (key === 'num_ctx' && value < 1) throw new RangeError(`ollamaModelfile: num_ctx must be at least 1, got ${value}`)
    out.push(`PARAMETER ${key} ${String(value)}`)
  }
  return out
}

/** The FROM argument: a bare file name becomes `./name` (resolved by Ollama against the Modelfile's folder). */
function fromPath(ggufFileName: string): string {
  if (ggufFileName.trim() === '') throw new RangeError('ollamaModelfile: ggufFileName is empty')
  if (/[\r\n]/.test(ggufFileName)) throw new RangeError('ollamaModelfile: ggufFileName contains a line break')
  const absolute = /^([/\\~]|[A-Za-z]:[/\\])/.test(ggufFileName)
  const relative = /^\.\.?[/\\]/.test(ggufFileName)
  const path = absolute || relative ? ggufFileName : `./${ggufFileName}`
  return /[\s"]/.test(path) ? quoteValue(path) : path
}

/**
 * Quotes a value for Ollama's parser. Single-line text without `"` goes in `"…"`; anything else in `"""…"""`,
 * which holds every single-line text and any multi-line text no line of which ends in `"""`
 * (see {@link protectTemplateLineEnds} and {@link protectTextLineEnds}).
 */
function quoteValue(value: string): string {
  if (!/[\r\n"]/.test(value)) return `"${value}"`
  return `"""${value}"""`
}

/** Stop strings are single tokens or short markers; one with a line break still quotes safely after protection. */
function quoteStop(stop: string): string {
  return quoteValue(protectTextLineEnds(stop))
}

/**
 * Positions where Ollama's parser would end a triple-quoted value early: a `"` that closes a run of three, with
 * only spaces, tabs or line breaks between it and the next line break.
 */
const LINE_END_TRIPLE_QUOTE = /(?<="")"(?=[^\S\r\n]*[\r\n])/g

/** Rewrites each such quote in a Go template as a `{{ "\"" }}` action, which renders the same `"`. */
function protectTemplateLineEnds(template: string): string {
  return template.replace(LINE_END_TRIPLE_QUOTE, '{{ "\\"" }}')
}

/** Plain text (SYSTEM, stop strings) has no such escape: the quote becomes a typographic closing quote. */
function protectTextLineEnds(text: string): string {
  return text.replace(LINE_END_TRIPLE_QUOTE, '\u201D')
}

/** Text placed verbatim in a Go template: `{{` would open an action, so it is written as a string literal. */
function literal(text: string): string {
  return text.replaceAll('{{', '{{ "{{" }}')
}

function uniqueNonEmpty(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))]
}
