/**
 * llama.cpp's SentencePiece-style tokenizer (llm_tokenizer_spm_session in llama-vocab.cpp), so that ids equal
 * llama.cpp's for every `llama` GGUF, including files whose scores tie (convert_hf_to_gguf writes -1000 for
 * every token when a model ships only tokenizer.json). Hugging Face's BPE cannot express ties: it always has
 * a strict merge order, so a library BPE would differ from llama.cpp on such files.
 *
 * Start from the characters; repeatedly join the adjacent pair whose joined text is a token with the highest
 * score (float32, ties to the leftmost pair); a final piece that is no token falls back to its UTF-8 bytes
 * (`<0xNN>` tokens).
 */
export class SpmEncoder {
  private readonly ids: ReadonlyMap<string, number>
  private readonly scores: Float32Array
  private readonly byteIds: (number | undefined)[]

  constructor(tokens: readonly string[], scores: readonly number[] | undefined) {
    this.ids = new Map(tokens.map((text, id) => [text, id]))
    // llama.cpp keeps scores as float32 and reads 0 for every token when the file has none.
    this.scores = Float32Array.from(tokens, (_, id) => scores?.[id] ?? 0)
    const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0')
    // A missing <0xNN> token falls back to a token that is the byte itself (only possible below 0x80).
    this.byteIds = Array.from({ length: 256 }, (_, b) => this.ids.get(`<0x${hex(b)}>`) ?? (b < 0x80 ? this.ids.get(String.fromCharCode(b)) : undefined))
  }

  /** Appends the ids of `text` (spaces already replaced by `▁`) to `out`. */
  encode(text: string, out: number[]): void {
    const pieces = Array.from(text)
    const n = pieces.length
    if (n === 0) return
    // Symbols as a linked list over the characters; a merged symbol keeps the left index and empties the right.
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1)
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1))
    const queue = new BigramQueue()
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return
      const id = this.ids.get(pieces[left]! + pieces[right]!)
      if (id !== undefined) queue.push({ left, right, score: this.scores[id]!, length: pieces[left]!.length + pieces[right]!.length })
    }
    for (let i = 1; i < n; i++) tryAdd(i - 1, i)
    for (let bigram = queue.pop(); bigram !== undefined; bigram = queue.pop()) {
      const { left, right } = bigram
      // A pair is stale once either side was merged elsewhere: its joined length no longer matches.
      if (pieces[left] === '' || pieces[right] === '' || pieces[left]!.length + pieces[right]!.length !== bigram.length) continue
      pieces[left] += pieces[right]!
      pieces[right] = ''
      next[left] = next[right]!
      if (next[right]! >= 0) prev[next[right]!] = left
      tryAdd(prev[left]!, left)
      tryAdd(left, next[left]!)
    }
    for (let i = 0; i !== -1; i = next[i]!) this.emit(pieces[i]!, out)
  }

  private emit(piece: string, out: number[]): void {
    const id = this.ids.get(piece)
    if (id !== undefined) {
      out.push(id)
      return
    }
    for (const b of UTF8.encode(piece)) {
      const byteId = this.byteIds[b]
      if (byteId === undefined) throw new Error(`the vocabulary has no token for byte 0x${b.toString(16).padStart(2, '0')} (in ${JSON.stringify(piece)})`)
      out.push(byteId)
    }
  }
}

const UTF8 = new TextEncoder()

interface Bigram {
  left: number
  right: number
  score: number
  length: number
}

/** A binary max-heap: highest score first, then the leftmost pair (llm_bigram_spm's comparator). */
class BigramQueue {
  private readonly heap: Bigram[] = []

  push(item: Bigram): void {
    const heap = this.heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  pop(): Bigram | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r
        if (best === i) break
        ;[heap[i], heap[best]] = [heap[best]!, heap[i]!]
        i = best
      }
    }
    return top
  }
}

function before(a: Bigram, b: Bigram): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left)
}
