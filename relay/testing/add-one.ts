import wabtInit from 'wabt'

// test module: output = input with every byte + 1 (result block at 4: length, then the bytes in place)
export const ADD_ONE = `(module
  (import "env" "memory" (memory 1))
  (func (export "alloc") (param $len i32) (result i32)
    (local $need i32)
    (local.set $need (i32.add (local.get $len) (i32.const 8)))
    (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.div_u (local.get $need) (i32.const 65536)) (i32.const 1))))))
    (i32.const 8))
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    (i32.store (i32.const 4) (local.get $len))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.add (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 4)))`

/** The add-one test module, compiled (wabt). */
export async function addOneModule (): Promise<Uint8Array> {
  const wabt = await wabtInit()
  return new Uint8Array(wabt.parseWat('add-one.wat', ADD_ONE).toBinary({}).buffer)
}

/** `n` inputs of different lengths. */
export const inputs = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`subtask ${i} `.repeat(i + 1)))
/** What the module makes of an input. */
export const plusOne = (b: Uint8Array): Uint8Array => b.map(x => (x + 1) & 0xff)
