/**
 * Test-only task modules, written inline as WAT and assembled with wabt:
 * small good ones to drive the runners, and the deliberately bad set
 * (runaway loop, memory bomb, forbidden imports, own memory, bad result
 * pointers). Used by the Vitest suites and e2e/sandbox.spec.ts; never
 * shipped.
 */
import { assembleWat } from './assemble.ts'
import { moduleHash } from '../shared/compute/index.ts'

const MEMORY = '(import "env" "memory" (memory 1))'
/** alloc: the input goes at 1028, right after a 4-byte length slot at 1024. */
const ALLOC_1028 = `(func (export "alloc") (param $len i32) (result i32)
    (if (i32.gt_u (i32.add (local.get $len) (i32.const 1028)) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $len) (i32.const 16)) (i32.const 1))))))
    (i32.const 1028))`

export const TEST_WAT = {
  /** Output = input. */
  echo: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 1024) (local.get $len))
      (i32.const 1024)))`,
  /** Reports progress 0.25, 0.5, 1 (unthrottled ones get dropped), then echoes. */
  progress: `(module ${MEMORY} (import "env" "progress" (func $p (param f64))) ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (call $p (f64.const 0.25)) (call $p (f64.const 0.5)) (call $p (f64.const 1))
      (i32.store (i32.const 1024) (local.get $len))
      (i32.const 1024)))`,
  /** Never returns. */
  runaway: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (loop $forever (br $forever))
      (i32.const 0)))`,
  /** Grows 16 pages at a time until refused, then traps. */
  memoryBomb: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (loop $more (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
      unreachable))`,
  /** Tries to import a network function. */
  importsFetch: `(module ${MEMORY} (import "env" "fetch" (func $fetch (param i32) (result i32))) ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (call $fetch (i32.const 0))))`,
  /** Imports several host capabilities at once. */
  importsHost: `(module ${MEMORY}
    (import "env" "WebSocket" (func (param i32) (result i32)))
    (import "env" "indexedDB" (global i32))
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) (i32.const 0)))`,
  /** Defines (and exports) its own memory instead of importing it. */
  ownMemory: `(module (memory (export "memory") 1)
    (func (export "alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) (i32.const 0)))`,
  /** No `run` export. */
  noRun: `(module ${MEMORY} ${ALLOC_1028})`,
  /** Result pointer far outside memory. */
  resultOutOfBounds: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) (i32.const 0x7fff0000)))`,
  /** Result length runs past the end of memory. */
  resultTooLong: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 0) (i32.const 70000))
      (i32.const 0)))`,
  /** Integer division by zero. */
  trap: `(module ${MEMORY} ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32)
      (i32.div_u (i32.const 1) (i32.sub (local.get $len) (local.get $len)))))`,
  /** Asks for 64 MiB at start. */
  bigStart: `(module (import "env" "memory" (memory 1024)) ${ALLOC_1028}
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) (i32.const 0)))`
} as const

export type TestModuleName = keyof typeof TEST_WAT

/** Not WebAssembly at all. */
export const GARBAGE = new TextEncoder().encode('\0asm but not really a module')

export interface TestModule {
  module: Uint8Array
  moduleHash: string
}

const built = new Map<string, Promise<TestModule>>()

export async function testModule (name: TestModuleName): Promise<TestModule> {
  let m = built.get(name)
  if (m == null) {
    m = (async () => {
      const module = await assembleWat(TEST_WAT[name], `${name}.wat`)
      return { module, moduleHash: await moduleHash(module) }
    })()
    built.set(name, m)
  }
  return await m
}
