/**
 * Reads the two facts about a module that `WebAssembly.Module.imports()`
 * does not tell: the limits of its imported memory (the host must create a
 * memory the import accepts: same initial size, a maximum no larger than
 * the declared one) and whether it defines a memory of its own. Only the
 * import and memory sections are walked; the bytes were already validated
 * by `WebAssembly.compile`, so anything odd here is a refusal, not a crash.
 */
import { TaskModuleInvalidError } from './errors.ts'

export interface MemoryLimits {
  /** Initial size in 64 KiB pages. */
  min: number
  /** Declared maximum in pages, when there is one. */
  max?: number
}

export interface ModuleShape {
  /** Limits of the `env.memory` import, if the module imports a memory. */
  memoryImport?: MemoryLimits
  /** The module has a memory section (a memory of its own). */
  definesMemory: boolean
}

const SECTION_IMPORT = 2
const SECTION_MEMORY = 5
const KIND_FUNC = 0
const KIND_MEMORY = 2

class Reader {
  at = 0
  constructor (readonly bytes: Uint8Array) {}

  byte (): number {
    if (this.at >= this.bytes.byteLength) throw new TaskModuleInvalidError('truncated module')
    return this.bytes[this.at++] as number
  }

  u32 (): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
    }
    throw new TaskModuleInvalidError('malformed LEB128 number')
  }

  name (): string {
    const len = this.u32()
    const start = this.at
    this.skip(len)
    return new TextDecoder().decode(this.bytes.subarray(start, this.at))
  }

  skip (n: number): void {
    if (this.at + n > this.bytes.byteLength) throw new TaskModuleInvalidError('truncated module')
    this.at += n
  }
}

function readLimits (r: Reader): MemoryLimits {
  const flags = r.byte()
  // 0x02/0x03 shared (threads), 0x04.. memory64, 0x08 custom page sizes: none of them are in the ABI
  if (flags !== 0 && flags !== 1) throw new TaskModuleInvalidError(`unsupported memory type (limits flags 0x${flags.toString(16)}): shared and 64-bit memories are not allowed`)
  const min = r.u32()
  return flags === 1 ? { min, max: r.u32() } : { min }
}

export function readModuleShape (bytes: Uint8Array): ModuleShape {
  const r = new Reader(bytes)
  r.skip(8) // magic and version, checked by the compiler
  const shape: ModuleShape = { definesMemory: false }
  while (r.at < bytes.byteLength) {
    const id = r.byte()
    const size = r.u32()
    const end = r.at + size
    if (end > bytes.byteLength) throw new TaskModuleInvalidError('truncated section')
    if (id === SECTION_MEMORY) {
      shape.definesMemory = r.u32() > 0
    } else if (id === SECTION_IMPORT) {
      const count = r.u32()
      for (let i = 0; i < count; i++) {
        const module = r.name()
        const field = r.name()
        const kind = r.byte()
        if (kind === KIND_FUNC) {
          r.u32()
        } else if (kind === KIND_MEMORY && module === 'env' && field === 'memory') {
          shape.memoryImport = readLimits(r)
        } else {
          // tables, globals, tags or other memories: the import list check refuses them first
          throw new TaskModuleInvalidError(`import ${module}.${field} is not allowed`)
        }
      }
    }
    r.at = end
  }
  return shape
}
