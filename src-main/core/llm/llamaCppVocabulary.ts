/**
 * What node-llama-cpp's build of llama.cpp knows about GGUF files, read from its enums: the architectures it can
 * load and the names of `general.file_type` values. Imported lazily, like every other use of node-llama-cpp, so
 * that listing models does not load the package until a GGUF is read.
 */
export interface LlamaCppVocabulary {
  /** `general.architecture` values llama.cpp has a loader for. */
  architectures: ReadonlySet<string>
  /** `general.file_type` as llama.cpp names it (`Q4_K_M`, `F16`…), or null for a number it does not know. */
  fileTypeName(fileType: number): string | null
}

let vocabulary: Promise<LlamaCppVocabulary> | null = null

export function llamaCppVocabulary(): Promise<LlamaCppVocabulary> {
  // The enums are `const` in the typings but real objects at run time; read them as plain records.
  vocabulary ??= import('node-llama-cpp').then((module) => {
    const { GgufArchitectureType, GgufFileType } = module as unknown as { GgufArchitectureType: Record<string, string>; GgufFileType: Record<number, string | undefined> }
    return {
      architectures: new Set<string>(Object.values(GgufArchitectureType)),
      fileTypeName: (fileType: number) => {
        const name = GgufFileType[fileType]
        return name === undefined ? null : name.replace(/^(MOSTLY|ALL)_/, '')
      },
    }
  })
  return vocabulary
}
