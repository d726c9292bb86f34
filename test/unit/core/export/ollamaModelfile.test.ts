import { Template } from '@huggingface/jinja'
import { describe, expect, it } from 'vitest'
import {
  detectPromptFamily,
  ollamaModelfile,
  type OllamaModelfileOptions,
  type OllamaPromptFamily,
  type OllamaSpecialTokens,
} from '../../../../src-main/core/export/ollamaModelfile.js'

// ---------------------------------------------------------------------------------------------------------------
// Ollama's Modelfile parser (parser/parser.go), restated: a command is NAME (PARAMETER takes a further key), one
// blank, then a value that runs until a line break at which the text read so far, trimmed, is a complete value:
// `"""…"""`, `"…"`, or unquoted. The quotes are stripped with no escape processing.
// ---------------------------------------------------------------------------------------------------------------

interface Command {
  name: string
  args: string
}

function unquote(s: string): { ok: boolean; value: string } {
  if (s.startsWith('"""')) return s.length >= 6 && s.endsWith('"""') ? { ok: true, value: s.slice(3, -3) } : { ok: false, value: '' }
  if (s.startsWith('"')) return s.length >= 2 && s.endsWith('"') ? { ok: true, value: s.slice(1, -1) } : { ok: false, value: '' }
  return { ok: true, value: s }
}

function parseModelfile(text: string): Command[] {
  const commands: Command[] = []
  let i = 0
  const at = (): string => text[i] ?? ''
  while (i < text.length) {
    if (/[ \t\r\n]/.test(at())) {
      i++
      continue
    }
    if (at() === '#') {
      while (i < text.length && !/[\r\n]/.test(at())) i++
      continue
    }
    let name = ''
    while (/[A-Za-z]/.test(at())) name += text[i++]
    if (!/[ \t]/.test(at())) throw new Error(`bad command at ${i}: ${JSON.stringify(text.slice(i, i + 20))}`)
    i++
    name = name.toLowerCase()
    if (name === 'from') name = 'model'
    if (name === 'parameter') {
      name = ''
      while (/[A-Za-z0-9_]/.test(at())) name += text[i++]
      if (!/[ \t]/.test(at())) throw new Error(`bad parameter at ${i}`)
      i++
    }
    let buffer = ''
    let done = false
    for (; i < text.length; i++) {
      if (/[\r\n]/.test(at())) {
        const u = unquote(buffer.trim())
        if (u.ok) {
          commands.push({ name, args: u.value })
          done = true
          i++
          break
        }
      }
      buffer += at()
    }
    if (!done) {
      const u = unquote(buffer.trim())
      if (!u.ok) throw new Error(`unterminated value for ${name}`)
      commands.push({ name, args: u.value })
    }
  }
  return commands
}

// ---------------------------------------------------------------------------------------------------------------
// A small evaluator for the Go text/template subset the Modelfile uses: text, {{ expr }}, if / else if / else,
// range (with or without $i, $_ :=), $v := and $v =, and the functions eq, and, or, not, len, slice. Values are
// truthy as in Go (false, 0, "", empty list and nil are false). No whitespace trimming ({{- / -}}) is supported.
// ---------------------------------------------------------------------------------------------------------------

type Token = { kind: 'str'; value: string } | { kind: 'num'; value: number } | { kind: 'word'; value: string } | { kind: 'punct'; value: string }
type Expr =
  | { kind: 'lit'; value: unknown }
  | { kind: 'field'; root: 'dot' | 'top' | string; path: string[] }
  | { kind: 'call'; fn: string; args: Expr[] }
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: Expr }
  | { kind: 'set'; name: string; declare: boolean; expr: Expr }
  | { kind: 'if'; branches: { cond: Expr; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'range'; names: string[]; expr: Expr; body: Node[] }

function lexAction(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === '"') {
      let j = i + 1
      while (src[j] !== '"') j += src[j] === '\\' ? 2 : 1
      out.push({ kind: 'str', value: JSON.parse(src.slice(i, j + 1)) as string })
      i = j + 1
    } else if (src.startsWith(':=', i)) {
      out.push({ kind: 'punct', value: ':=' })
      i += 2
    } else if ('()=,'.includes(c)) {
      out.push({ kind: 'punct', value: c })
      i++
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i))![0]
      out.push({ kind: 'num', value: Number(m) })
      i += m.length
    } else {
      const m = /^[$.A-Za-z_][$.A-Za-z0-9_]*/.exec(src.slice(i))
      if (!m) throw new Error(`cannot lex ${JSON.stringify(src.slice(i))}`)
      out.push({ kind: 'word', value: m[0] })
      i += m[0].length
    }
  }
  return out
}

function splitTemplate(template: string): ({ text: string } | { action: Token[] })[] {
  const parts: ({ text: string } | { action: Token[] })[] = []
  let i = 0
  while (i < template.length) {
    const open = template.indexOf('{{', i)
    if (open < 0) {
      parts.push({ text: template.slice(i) })
      break
    }
    if (open > i) parts.push({ text: template.slice(i, open) })
    let j = open + 2
    while (!template.startsWith('}}', j)) {
      if (j >= template.length) throw new Error('unclosed action')
      if (template[j] === '"') {
        j++
        while (template[j] !== '"') j += template[j] === '\\' ? 2 : 1
      }
      j++
    }
    const inner = template.slice(open + 2, j)
    if (inner.startsWith('-') || inner.endsWith('-')) throw new Error('trim markers are not expected')
    parts.push({ action: lexAction(inner) })
    i = j + 2
  }
  return parts
}

function parseExpr(tokens: Token[]): Expr {
  let pos = 0
  const operand = (): Expr => {
    const t = tokens[pos++]
    if (!t) throw new Error('missing operand')
    if (t.kind === 'str' || t.kind === 'num') return { kind: 'lit', value: t.value }
    if (t.kind === 'punct' && t.value === '(') {
      const e = command()
      if (tokens[pos++]?.value !== ')') throw new Error('missing )')
      return e
    }
    if (t.kind === 'word') {
      const w = t.value
      if (w.startsWith('$.')) return { kind: 'field', root: 'top', path: w.slice(2).split('.') }
      if (w.startsWith('$')) {
        const [name, ...path] = w.split('.')
        return { kind: 'field', root: name!, path }
      }
      if (w.startsWith('.')) return { kind: 'field', root: 'dot', path: w.slice(1).split('.').filter((p) => p !== '') }
    }
    throw new Error(`unexpected token ${JSON.stringify(t)}`)
  }
  const command = (): Expr => {
    const t = tokens[pos]
    if (t?.kind === 'word' && /^[a-z]+$/.test(t.value)) {
      pos++
      const args: Expr[] = []
      while (pos < tokens.length && tokens[pos]!.value !== ')') args.push(operand())
      return { kind: 'call', fn: t.value, args }
    }
    return operand()
  }
  const e = command()
  if (pos !== tokens.length) throw new Error(`trailing tokens in ${JSON.stringify(tokens)}`)
  return e
}

function parseNodes(parts: ReturnType<typeof splitTemplate>): Node[] {
  let pos = 0
  const list = (stops: string[]): { nodes: Node[]; stop: Token[] | undefined } => {
    const nodes: Node[] = []
    while (pos < parts.length) {
      const part = parts[pos++]!
      if ('text' in part) {
        nodes.push({ kind: 'text', text: part.text })
        continue
      }
      const toks = part.action
      const head = toks[0]?.value
      if (typeof head === 'string' && stops.includes(head)) return { nodes, stop: toks }
      if (head === 'if') {
        const branches = [{ cond: parseExpr(toks.slice(1)), body: [] as Node[] }]
        let otherwise: Node[] = []
        for (;;) {
          const r = list(['else', 'end'])
          if (!r.stop) throw new Error('if without end')
          if (otherwise.length === 0 && branches[branches.length - 1]!.body.length === 0) branches[branches.length - 1]!.body = r.nodes
          else otherwise = r.nodes
          if (r.stop[0]!.value === 'end') break
          if (r.stop[1]?.value === 'if') branches.push({ cond: parseExpr(r.stop.slice(2)), body: [] })
          else {
            const rest = list(['end'])
            otherwise = rest.nodes
            break
          }
        }
        nodes.push({ kind: 'if', branches, otherwise })
      } else if (head === 'range') {
        const decl = toks.findIndex((t) => t.value === ':=')
        const names = decl < 0 ? [] : toks.slice(1, decl).filter((t) => t.kind === 'word').map((t) => String(t.value))
        const expr = parseExpr(toks.slice(decl < 0 ? 1 : decl + 1))
        const r = list(['end'])
        nodes.push({ kind: 'range', names, expr, body: r.nodes })
      } else if (toks[1]?.value === ':=' || toks[1]?.value === '=') {
        nodes.push({ kind: 'set', name: String(head), declare: toks[1].value === ':=', expr: parseExpr(toks.slice(2)) })
      } else {
        nodes.push({ kind: 'out', expr: parseExpr(toks) })
      }
    }
    return { nodes, stop: undefined }
  }
  const r = list([])
  return r.nodes
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== ''
}

function renderGoTemplate(template: string, data: Record<string, unknown>): string {
  const nodes = parseNodes(splitTemplate(template))
  const scopes: Map<string, unknown>[] = [new Map([['$', data]])]
  const lookup = (name: string): unknown => {
    for (let s = scopes.length - 1; s >= 0; s--) if (scopes[s]!.has(name)) return scopes[s]!.get(name)
    throw new Error(`undefined variable ${name}`)
  }
  const evalExpr = (e: Expr, dot: unknown): unknown => {
    if (e.kind === 'lit') return e.value
    if (e.kind === 'field') {
      let v: unknown = e.root === 'dot' ? dot : e.root === 'top' ? data : lookup(e.root)
      for (const p of e.path) v = (v as Record<string, unknown>)[p]
      return v
    }
    const args = e.args.map((a) => evalExpr(a, dot))
    switch (e.fn) {
      case 'eq':
        return args[0] === args[1]
      case 'and':
        return args.find((a) => !truthy(a)) ?? args[args.length - 1]
      case 'or':
        return args.find((a) => truthy(a)) ?? args[args.length - 1]
      case 'not':
        return !truthy(args[0])
      case 'len':
        return (args[0] as unknown[] | string).length
      case 'slice':
        return (args[0] as unknown[]).slice(args[1] as number, args[2] as number | undefined)
      default:
        throw new Error(`unknown function ${e.fn}`)
    }
  }
  const run = (list: Node[], dot: unknown): string => {
    let out = ''
    for (const n of list) {
      if (n.kind === 'text') out += n.text
      else if (n.kind === 'out') out += String(evalExpr(n.expr, dot) ?? '')
      else if (n.kind === 'set') {
        const value = evalExpr(n.expr, dot)
        if (n.declare) scopes[scopes.length - 1]!.set(n.name, value)
        else {
          const scope = [...scopes].reverse().find((s) => s.has(n.name))
          if (!scope) throw new Error(`assignment to undeclared ${n.name}`)
          scope.set(n.name, value)
        }
      } else if (n.kind === 'if') {
        const branch = n.branches.find((b) => truthy(evalExpr(b.cond, dot)))
        scopes.push(new Map())
        out += run(branch ? branch.body : n.otherwise, dot)
        scopes.pop()
      } else {
        const items = evalExpr(n.expr, dot) as unknown[]
        items.forEach((item, index) => {
          const scope = new Map<string, unknown>()
          if (n.names.length === 1) scope.set(n.names[0]!, item)
          if (n.names.length === 2) {
            scope.set(n.names[0]!, index)
            scope.set(n.names[1]!, item)
          }
          scopes.push(scope)
          out += run(n.body, item)
          scopes.pop()
        })
      }
    }
    return out
  }
  return run(nodes, data)
}

// ---------------------------------------------------------------------------------------------------------------
// Representative Jinja chat templates, one per family, written for these tests in the shape the models ship.
// ---------------------------------------------------------------------------------------------------------------

const JINJA = {
  chatml:
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  phi4:
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '<|im_sep|>' + message['content'] + '<|im_end|>' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant<|im_sep|>' }}{% endif %}",
  llama3:
    '{% for message in messages %}' +
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}" +
    '{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}' +
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
  llama2:
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}" +
    '{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}' +
    '{% for message in loop_messages %}' +
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}" +
    "{% else %}{% set content = message['content'] %}{% endif %}" +
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}" +
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
  mistralV3:
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}" +
    '{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}' +
    '{%- for message in loop_messages %}' +
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
    "{{- raise_exception('After an optional system message, roles must alternate user/assistant/user/assistant/...') }}{%- endif %}" +
    "{%- if message['role'] == 'user' %}{%- if loop.last and system_message is defined %}" +
    "{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}" +
    "{%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}" +
    "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] | trim + eos_token }}" +
    "{%- else %}{{- raise_exception('Only user and assistant roles are supported, besides an initial optional system message!') }}" +
    '{%- endif %}{%- endfor %}',
  mistralV1:
    '{{ bos_token }}{% for message in messages %}' +
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
  mistralTekken:
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}" +
    '{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}' +
    "{%- for message in loop_messages %}{%- if message['role'] == 'user' %}" +
    "{%- if loop.last and system_message is defined %}{{- '[INST]' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}" +
    "{%- else %}{{- '[INST]' + message['content'] + '[/INST]' }}{%- endif %}" +
    "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}{%- endif %}{%- endfor %}",
  gemma3:
    "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}" +
    "{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}" +
    "{%- for message in loop_messages -%}{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}" +
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}{{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}" +
    "{%- endfor -%}{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}",
  gemma2:
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
    "{% for message in messages %}{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}" +
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}",
  phi3:
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}" +
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}" +
    "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}",
  phi35:
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}",
  zephyr:
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token + '\\n' }}" +
    "{% elif message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + eos_token + '\\n' }}" +
    "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + eos_token + '\\n' }}{% endif %}" +
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}{% endfor %}",
  alpaca:
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}" +
    "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}{% endif %}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}",
  glm:
    "[gMASK]<sop>{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}",
}

const TOKENS: Record<string, OllamaSpecialTokens> = {
  chatml: { bos: '', eos: '<|endoftext|>', eot: ['<|im_end|>'] },
  phi4: { bos: '', eos: '<|endoftext|>' },
  llama3: { bos: '<|begin_of_text|>', eos: '<|end_of_text|>', eot: ['<|eot_id|>', '<|eom_id|>'] },
  spm: { bos: '<s>', eos: '</s>' },
  gemma: { bos: '<bos>', eos: '<eos>', eot: ['<end_of_turn>'] },
  phi3: { bos: '<s>', eos: '<|endoftext|>', eot: ['<|end|>'] },
}

interface Case {
  name: keyof typeof JINJA
  family: OllamaPromptFamily
  tokens: OllamaSpecialTokens
  /** The tokenizer adds BOS in front of what Ollama renders; the Jinja template writes it itself. */
  bosAdded: boolean
  /** The model's own template cannot take a system message (it raises or ignores it). */
  noSystem?: boolean
}

const CASES: Case[] = [
  { name: 'chatml', family: 'chatml', tokens: TOKENS.chatml!, bosAdded: false },
  { name: 'phi4', family: 'phi4', tokens: TOKENS.phi4!, bosAdded: false },
  { name: 'llama3', family: 'llama3', tokens: TOKENS.llama3!, bosAdded: true },
  { name: 'llama2', family: 'llama2', tokens: TOKENS.spm!, bosAdded: true },
  { name: 'mistralV3', family: 'mistral', tokens: TOKENS.spm!, bosAdded: true },
  { name: 'mistralV1', family: 'mistral', tokens: TOKENS.spm!, bosAdded: true, noSystem: true },
  { name: 'mistralTekken', family: 'mistral', tokens: TOKENS.spm!, bosAdded: true },
  { name: 'gemma3', family: 'gemma', tokens: TOKENS.gemma!, bosAdded: true },
  { name: 'gemma2', family: 'gemma', tokens: TOKENS.gemma!, bosAdded: true, noSystem: true },
  { name: 'phi3', family: 'phi3', tokens: TOKENS.phi3!, bosAdded: false },
  { name: 'phi35', family: 'phi3', tokens: TOKENS.phi3!, bosAdded: false },
  { name: 'zephyr', family: 'zephyr', tokens: TOKENS.spm!, bosAdded: false },
]

const SYSTEM = 'You answer questions about the Acme pump manual.'
const TURNS = [
  { role: 'user', content: 'What is the maximum flow rate?' },
  { role: 'assistant', content: 'The P-200 moves at most 40 litres per minute.' },
  { role: 'user', content: 'And at 3 bar?' },
]

function jinjaRender(source: string, messages: { role: string; content: string }[], tokens: OllamaSpecialTokens): string {
  return new Template(source).render({ messages, add_generation_prompt: true, bos_token: tokens.bos, eos_token: tokens.eos })
}

/** What Ollama renders for a chat: system messages stay in .Messages and are also joined into .System. */
function ollamaRender(template: string, messages: { role: string; content: string }[]): string {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n')
  return renderGoTemplate(template, { System: system, Messages: messages.map((m) => ({ Role: m.role, Content: m.content })) })
}

function build(options: Partial<OllamaModelfileOptions> & Pick<OllamaModelfileOptions, 'chatTemplate' | 'tokens'>) {
  const result = ollamaModelfile({ ggufFileName: 'acme-q4_k_m.gguf', ...options })
  const commands = parseModelfile(result.text)
  const one = (name: string): string | undefined => commands.find((c) => c.name === name)?.args
  return { ...result, commands, template: one('template')!, from: one('model'), system: one('system'), stops: commands.filter((c) => c.name === 'stop').map((c) => c.args) }
}

describe('detectPromptFamily', () => {
  it.each(CASES.map((c) => [c.name, c.family] as const))('recognises %s as %s', (name, family) => {
    expect(detectPromptFamily(JINJA[name])).toBe(family)
  })

  it('falls back to plain for unknown, GLM-style, blank and missing templates', () => {
    expect(detectPromptFamily(JINJA.alpaca)).toBe('plain')
    expect(detectPromptFamily(JINJA.glm)).toBe('plain')
    expect(detectPromptFamily('   ')).toBe('plain')
    expect(detectPromptFamily(null)).toBe('plain')
  })
})

describe('ollamaModelfile TEMPLATE renders what the model was trained on', () => {
  it.each(CASES)('$name: system + two user turns match the Jinja template', ({ name, family, tokens, bosAdded, noSystem }) => {
    const { template, family: detected } = build({ chatTemplate: JINJA[name], tokens })
    expect(detected).toBe(family)
    const withSystem = [{ role: 'system', content: SYSTEM }, ...TURNS]
    const rendered = ollamaRender(template, withSystem)
    const prefix = bosAdded ? tokens.bos : ''
    if (noSystem) {
      // The Jinja template refuses a system message; the system text must still reach the model.
      expect(rendered).toContain(SYSTEM)
    } else {
      expect(prefix + rendered).toBe(jinjaRender(JINJA[name], withSystem, tokens))
    }
    expect(prefix + ollamaRender(template, TURNS)).toBe(jinjaRender(JINJA[name], TURNS, tokens))
  })

  it('renders the exact ChatML text for a two-turn chat', () => {
    const { template } = build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml! })
    expect(ollamaRender(template, [{ role: 'system', content: 'S' }, ...TURNS])).toBe(
      '<|im_start|>system\nS<|im_end|>\n' +
        '<|im_start|>user\nWhat is the maximum flow rate?<|im_end|>\n' +
        '<|im_start|>assistant\nThe P-200 moves at most 40 litres per minute.<|im_end|>\n' +
        '<|im_start|>user\nAnd at 3 bar?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    )
  })

  it('renders the exact Llama 2 text, system inside the first [INST] and BOS reopening later turns', () => {
    const { template } = build({ chatTemplate: JINJA.llama2, tokens: TOKENS.spm! })
    expect(ollamaRender(template, [{ role: 'system', content: 'S' }, ...TURNS])).toBe(
      '[INST] <<SYS>>\nS\n<</SYS>>\n\nWhat is the maximum flow rate? [/INST] The P-200 moves at most 40 litres per minute. </s>' +
        '<s>[INST] And at 3 bar? [/INST]',
    )
  })

  it('puts the Mistral system text before the last user message, as Mistral v0.3 does', () => {
    const { template } = build({ chatTemplate: JINJA.mistralV3, tokens: TOKENS.spm! })
    expect(ollamaRender(template, [{ role: 'system', content: 'S' }, ...TURNS])).toBe(
      '[INST] What is the maximum flow rate?[/INST] The P-200 moves at most 40 litres per minute.</s>[INST] S\n\nAnd at 3 bar?[/INST]',
    )
  })

  it('renders a single user message with its generation prompt (what /api/generate sends)', () => {
    const { template } = build({ chatTemplate: JINJA.llama3, tokens: TOKENS.llama3! })
    expect(ollamaRender(template, [{ role: 'user', content: 'Hi' }])).toBe(
      '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    )
  })
})

describe('ollamaModelfile stop tokens', () => {
  it.each<[keyof typeof JINJA, OllamaSpecialTokens, string[]]>([
    ['chatml', TOKENS.chatml!, ['<|im_end|>', '<|im_start|>', '<|endoftext|>']],
    ['phi4', TOKENS.phi4!, ['<|im_end|>', '<|im_start|>', '<|im_sep|>', '<|endoftext|>']],
    ['llama3', TOKENS.llama3!, ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|end_of_text|>']],
    ['llama2', TOKENS.spm!, ['[INST]', '[/INST]', '<<SYS>>', '<</SYS>>', '</s>']],
    ['mistralV3', TOKENS.spm!, ['[INST]', '[/INST]', '</s>']],
    ['gemma3', TOKENS.gemma!, ['<end_of_turn>', '<start_of_turn>', '<eos>']],
    ['phi3', TOKENS.phi3!, ['<|end|>', '<|user|>', '<|assistant|>', '<|system|>', '<|endoftext|>']],
    ['zephyr', TOKENS.spm!, ['<|user|>', '<|assistant|>', '<|system|>', '</s>']],
  ])('%s: the turn markers, end-of-turn tokens and EOS, each once', (name, tokens, expected) => {
    expect(build({ chatTemplate: JINJA[name], tokens }).stops).toEqual(expected)
  })

  it('appends extra stop strings from parameters and drops empty ones', () => {
    const { stops } = build({ chatTemplate: JINJA.chatml, tokens: { bos: '', eos: '' }, parameters: { stop: ['END', '', '<|im_end|>'] } })
    expect(stops).toEqual(['<|im_end|>', '<|im_start|>', 'END'])
  })
})

describe('ollamaModelfile file layout and quoting', () => {
  it('starts FROM ./<file> and writes the commands in order, ending in a newline', () => {
    const r = build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml!, systemPrompt: SYSTEM, parameters: { temperature: 0.7, num_ctx: 4096 } })
    expect(r.text).toMatch(/^# .*\n# Prompt format: ChatML/)
    expect(r.text).toContain('\nFROM ./acme-q4_k_m.gguf\n')
    expect(r.text.endsWith('PARAMETER temperature 0.7\nPARAMETER num_ctx 4096\n')).toBe(true)
    expect(r.commands.map((c) => c.name)).toEqual(['model', 'template', 'system', 'stop', 'stop', 'stop', 'temperature', 'num_ctx'])
    expect(r.from).toBe('./acme-q4_k_m.gguf')
    expect(r.system).toBe(SYSTEM)
    expect(r.warnings).toEqual([])
  })

  it('keeps relative and absolute paths, and quotes a path with spaces', () => {
    expect(build({ ggufFileName: '../out/m.gguf', chatTemplate: null, tokens: TOKENS.spm! }).from).toBe('../out/m.gguf')
    expect(build({ ggufFileName: '/models/m.gguf', chatTemplate: null, tokens: TOKENS.spm! }).from).toBe('/models/m.gguf')
    expect(build({ ggufFileName: 'C:\\models\\m.gguf', chatTemplate: null, tokens: TOKENS.spm! }).from).toBe('C:\\models\\m.gguf')
    const spaced = build({ ggufFileName: 'my model.gguf', chatTemplate: null, tokens: TOKENS.spm! })
    expect(spaced.text).toContain('FROM "./my model.gguf"\n')
    expect(spaced.from).toBe('./my model.gguf')
    expect(() => ollamaModelfile({ ggufFileName: ' ', chatTemplate: null, tokens: TOKENS.spm! })).toThrow(/empty/)
    expect(() => ollamaModelfile({ ggufFileName: 'a\nb.gguf', chatTemplate: null, tokens: TOKENS.spm! })).toThrow(/line break/)
  })

  it('wraps the template in triple quotes and round-trips it through the parser unchanged', () => {
    const r = build({ chatTemplate: JINJA.llama2, tokens: TOKENS.spm! })
    expect(r.text).toContain('TEMPLATE """{{ $system := .System }}')
    expect(r.template).toContain('{{ if eq .Role "user" }}')
  })

  it('round-trips quotes in stop strings and SYSTEM without backslashes (the parser has no escapes)', () => {
    const system = 'Say "hello".\nQuote with """triple""" marks.\nEnds with a quote: "'
    const r = build({ chatTemplate: JINJA.chatml, tokens: { bos: '', eos: '"' }, systemPrompt: system, parameters: { stop: ['say "stop"', '""x', 'a"""b'] } })
    expect(r.system).toBe(system)
    expect(r.stops.slice(-4)).toEqual(['"', 'say "stop"', '""x', 'a"""b'])
    expect(r.text).toContain('PARAMETER stop """say "stop""""\n')
    expect(r.text).not.toContain('\\"')
    expect(r.warnings).toEqual([])
  })

  it('rewrites a SYSTEM line ending in """ (which no Modelfile can hold) and says so', () => {
    const r = build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml!, systemPrompt: 'First line """  \nsecond line' })
    expect(r.system).toBe('First line ""\u201D  \nsecond line')
    expect(r.commands.map((c) => c.name)).toEqual(['model', 'template', 'system', 'stop', 'stop', 'stop'])
    expect(r.warnings.join(' ')).toMatch(/"""/)
  })

  it('protects template text that would end a line in """ and writes {{ as a literal, rendering the same', () => {
    const tokens = { bos: '', eos: '{{eos"""' }
    const r = build({ chatTemplate: JINJA.zephyr, tokens })
    expect(r.commands.map((c) => c.name)).toEqual(['model', 'template', 'stop', 'stop', 'stop', 'stop'])
    const rendered = ollamaRender(r.template, [{ role: 'user', content: 'Hi' }])
    expect(rendered).toBe('<|user|>\nHi{{eos"""\n<|assistant|>\n')
  })

  it('omits a blank system prompt and accepts a plain multi-line one', () => {
    expect(build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml!, systemPrompt: '  \n ' }).system).toBeUndefined()
    const r = build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml!, systemPrompt: 'Line one.\nLine two.' })
    expect(r.text).toContain('SYSTEM """Line one.\nLine two."""\n')
    expect(r.system).toBe('Line one.\nLine two.')
  })

  it('writes numeric parameters in a fixed order and rejects values Ollama would refuse', () => {
    const r = build({ chatTemplate: JINJA.chatml, tokens: TOKENS.chatml!, parameters: { num_ctx: 8192, seed: 42, temperature: 0.2, top_p: 0.9, repeat_penalty: 1.1 } })
    expect(r.commands.filter((c) => c.name !== 'stop').slice(2)).toEqual([
      { name: 'temperature', args: '0.2' },
      { name: 'top_p', args: '0.9' },
      { name: 'repeat_penalty', args: '1.1' },
      { name: 'seed', args: '42' },
      { name: 'num_ctx', args: '8192' },
    ])
    const base = { ggufFileName: 'm.gguf', chatTemplate: null, tokens: TOKENS.spm! }
    expect(() => ollamaModelfile({ ...base, parameters: { num_ctx: 4096.5 } })).toThrow(/num_ctx must be an integer/)
    expect(() => ollamaModelfile({ ...base, parameters: { temperature: Number.NaN } })).toThrow(/temperature must be a finite number/)
    expect(() => ollamaModelfile({ ...base, parameters: { num_ctx: 0 } })).toThrow(/at least 1/)
    expect(() => ollamaModelfile({ ...base, parameters: { mirostat: 1 } as never })).toThrow(/unknown Ollama parameter "mirostat"/)
  })
})

describe('ollamaModelfile fallback and warnings', () => {
  it('uses a plain format that still works for an unknown template, with a warning', () => {
    const r = build({ chatTemplate: JINJA.alpaca, tokens: TOKENS.spm!, systemPrompt: 'S' })
    expect(r.family).toBe('plain')
    expect(r.warnings).toHaveLength(1)
    expect(r.warnings[0]).toMatch(/not one of the known formats.*generic/)
    expect(ollamaRender(r.template, [{ role: 'system', content: 'S' }, ...TURNS])).toBe(
      'S\n\n### User:\nWhat is the maximum flow rate?\n\n### Assistant:\nThe P-200 moves at most 40 litres per minute.</s>\n\n' +
        '### User:\nAnd at 3 bar?\n\n### Assistant:\n',
    )
    expect(r.stops).toEqual(['### User:', '</s>'])
  })

  it('says so when the GGUF has no chat template at all', () => {
    const r = build({ chatTemplate: null, tokens: TOKENS.spm! })
    expect(r.family).toBe('plain')
    expect(r.warnings[0]).toMatch(/no chat template/)
  })

  it('warns when a system prompt meets a template without a system role, and only then', () => {
    expect(build({ chatTemplate: JINJA.gemma2, tokens: TOKENS.gemma!, systemPrompt: 'S' }).warnings[0]).toMatch(/no system role/)
    expect(build({ chatTemplate: JINJA.mistralV1, tokens: TOKENS.spm!, systemPrompt: 'S' }).warnings[0]).toMatch(/no system role/)
    expect(build({ chatTemplate: JINJA.gemma2, tokens: TOKENS.gemma! }).warnings).toEqual([])
    expect(build({ chatTemplate: JINJA.mistralV3, tokens: TOKENS.spm!, systemPrompt: 'S' }).warnings).toEqual([])
    expect(build({ chatTemplate: JINJA.gemma3, tokens: TOKENS.gemma!, systemPrompt: 'S' }).warnings).toEqual([])
  })

  it('warns when there is no EOS token', () => {
    expect(build({ chatTemplate: JINJA.chatml, tokens: { bos: '', eos: '' } }).warnings.join(' ')).toMatch(/no EOS/)
  })
})
