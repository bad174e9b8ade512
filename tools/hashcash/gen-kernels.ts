/**
 * Generates the unrolled Hashcash search kernels from one SHA-256 model:
 *
 *   npx node --import tsx tools/hashcash/gen-kernels.ts
 *
 * writes, into shared/hashcash/, `sha256-unrolled.ts` (plain TypeScript) and `sha256-simd.wat`
 * (WebAssembly text, 4 nonces per step), then assembles the WAT with the
 * `wabt` dev dependency into `sha256-simd-wasm.ts`. All three are committed;
 * nothing is generated at run time, so pages with a strict CSP keep working
 * (the WASM kernel additionally needs 'wasm-unsafe-eval' and falls back to
 * the JS one without it).
 *
 * The hashed message is challenge(32) ‖ nonce(8): one padded block with
 * W0..W7 = challenge, W8 = nonce high word, W9 = nonce low word,
 * W10 = 0x80000000, W11..W14 = 0, W15 = 320. The search loop varies only W9,
 * so the model marks W9 as the single varying input; every sub-expression
 * that does not depend on it (rounds 0..8, most of round 9, parts of the
 * message schedule and of later rounds) is hoisted out of the loop.
 */
import { writeFileSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

/**
 * Independent 4-lane vectors per step of the WASM loop. Two interleaved
 * streams measured ~40% slower in Chromium 156 (the extra live vectors spill
 * out of the 16 XMM registers), so one it is.
 */
export const WASM_STREAMS = 1

// ---------------------------------------------------------------------------
// A tiny expression DAG with constant folding and loop-invariant tracking

type Op = 'add' | 'xor' | 'and' | 'or' | 'rotr' | 'shr'

interface ConstNode { kind: 'const', id: number, value: number }
interface InputNode { kind: 'input', id: number, name: string, varying: boolean }
interface OpNode { kind: 'op', id: number, op: Op, args: Node[], amount: number, varying: boolean, label?: string }
type Node = ConstNode | InputNode | OpNode

let nextId = 0
const u32 = (n: number): number => n >>> 0
const konst = (value: number): ConstNode => ({ kind: 'const', id: nextId++, value: u32(value) })
const input = (name: string, varying: boolean): InputNode => ({ kind: 'input', id: nextId++, name, varying })
const isVarying = (n: Node): boolean => n.kind !== 'const' && n.varying
const isZero = (n: Node): boolean => n.kind === 'const' && n.value === 0

function op (o: Op, args: Node[], amount = 0): Node {
  return { kind: 'op', id: nextId++, op: o, args, amount, varying: args.some(isVarying) }
}

/** n-ary add: folds constants and groups loop-invariant terms into one hoistable node. */
function add (...terms: Node[]): Node {
  let c = 0
  const inv: Node[] = []
  const vary: Node[] = []
  for (const t of terms) {
    if (t.kind === 'const') c = u32(c + t.value)
    else if (isVarying(t)) vary.push(t)
    else inv.push(t)
  }
  if (c !== 0 || (inv.length === 0 && vary.length === 0)) inv.push(konst(c))
  const invNode = inv.length === 0 ? konst(0) : inv.length === 1 ? inv[0] as Node : op('add', inv)
  if (vary.length === 0) return invNode
  if (isZero(invNode)) return vary.length === 1 ? vary[0] as Node : op('add', vary)
  return op('add', [...vary, invNode])
}

function bin (o: 'xor' | 'and' | 'or', x: Node, y: Node): Node {
  if (x.kind === 'const' && y.kind === 'const') {
    return konst(o === 'xor' ? x.value ^ y.value : o === 'and' ? x.value & y.value : x.value | y.value)
  }
  if (o === 'and' && (isZero(x) || isZero(y))) return konst(0)
  if (o !== 'and' && isZero(x)) return y
  if (o !== 'and' && isZero(y)) return x
  return op(o, [x, y])
}
const xor = (...xs: Node[]): Node => xs.reduce((acc, x) => bin('xor', acc, x))
const and = (x: Node, y: Node): Node => bin('and', x, y)

function rotr (x: Node, n: number): Node {
  if (x.kind === 'const') return konst((x.value >>> n) | (x.value << (32 - n)))
  return op('rotr', [x], n)
}
function shr (x: Node, n: number): Node {
  if (x.kind === 'const') return konst(x.value >>> n)
  return op('shr', [x], n)
}

const bigSigma0 = (x: Node): Node => xor(rotr(x, 2), rotr(x, 13), rotr(x, 22))
const bigSigma1 = (x: Node): Node => xor(rotr(x, 6), rotr(x, 11), rotr(x, 25))
const smallSigma0 = (x: Node): Node => xor(rotr(x, 7), rotr(x, 18), shr(x, 3))
const smallSigma1 = (x: Node): Node => xor(rotr(x, 17), rotr(x, 19), shr(x, 10))

function label (n: Node, name: string): Node {
  if (n.kind === 'op' && n.label == null) n.label = name
  return n
}

// ---------------------------------------------------------------------------
// The model: one compression of the single block, up to H0 and H1

interface Model {
  /** H0 and H1 of the digest (final additions included). */
  h0: Node
  h1: Node
}

function buildModel (): Model {
  nextId = 0
  const W: Node[] = []
  for (let i = 0; i < 8; i++) W.push(input(`w${i}`, false))
  W.push(input('hi', false))
  W.push(input('w9', true))
  W.push(konst(0x80000000))
  for (let i = 11; i < 15; i++) W.push(konst(0))
  W.push(konst(320))

  // a[t], e[t]: values after round t (t = -1 is the IV); b,c,d / f,g,h are older a / e
  const a = new Map<number, Node>()
  const e = new Map<number, Node>()
  for (let i = 0; i < 4; i++) {
    a.set(-1 - i, konst(IV[i] as number))
    e.set(-1 - i, konst(IV[4 + i] as number))
  }
  // a[t-1] ^ a[t-2], reused by the next round's Maj as b ^ c
  const ab = new Map<number, Node>()
  const get = (m: Map<number, Node>, k: number): Node => {
    const n = m.get(k)
    if (n == null) throw new Error(`missing ${k}`)
    return n
  }

  for (let t = 0; t < 64; t++) {
    if (t >= 16) {
      W[t] = label(add(smallSigma1(W[t - 2] as Node), W[t - 7] as Node, smallSigma0(W[t - 15] as Node), W[t - 16] as Node), `w${t}`)
    }
    const ea = get(e, t - 1)
    const fa = get(e, t - 2)
    const ga = get(e, t - 3)
    const ha = get(e, t - 4)
    const aa = get(a, t - 1)
    const ba = get(a, t - 2)
    const ca = get(a, t - 3)
    const da = get(a, t - 4)
    const ch = xor(ga, and(ea, xor(fa, ga)))
    const xab = xor(aa, ba)
    ab.set(t, xab)
    const xbc = ab.get(t - 1) ?? xor(ba, ca)
    const maj = xor(ba, and(xab, xbc))
    const t1 = add(ha, bigSigma1(ea), ch, konst(K[t] as number), W[t] as Node)
    e.set(t, label(add(da, t1), `e${t}`))
    a.set(t, label(add(t1, bigSigma0(aa), maj), `a${t}`))
  }
  return {
    h0: add(get(a, 63), konst(IV[0] as number)),
    h1: add(get(a, 62), konst(IV[1] as number))
  }
}

// ---------------------------------------------------------------------------
// Scheduling: which nodes get a name, and whether they live in the prelude or the loop

interface Schedule {
  /** Loop-invariant nodes to compute before the loop, in dependency order. */
  prelude: OpNode[]
  /** Invariant nodes (or inputs) the loop body reads. */
  invariantsUsedInLoop: Node[]
  /** Varying nodes to compute in the loop body, in dependency order. */
  body: OpNode[]
  named: Set<Node>
}

function schedule (roots: Node[]): Schedule {
  const uses = new Map<Node, number>()
  const all: OpNode[] = []
  const seen = new Set<Node>()
  const visit = (n: Node): void => {
    if (seen.has(n)) return
    seen.add(n)
    if (n.kind === 'op') {
      for (const arg of n.args) {
        // rotations read their operand twice in the emitted code
        uses.set(arg, (uses.get(arg) ?? 0) + (n.op === 'rotr' ? 2 : 1))
        visit(arg)
      }
      all.push(n)
    }
  }
  for (const r of roots) visit(r)
  all.sort((x, y) => x.id - y.id)

  const named = new Set<Node>()
  const invariantsUsedInLoop = new Set<Node>()
  for (const n of all) {
    if ((uses.get(n) ?? 0) > 1 || n.label != null) named.add(n)
    if (n.varying) {
      for (const arg of n.args) {
        if (!isVarying(arg) && arg.kind !== 'const') {
          invariantsUsedInLoop.add(arg)
          named.add(arg)
        }
      }
    }
  }
  for (const r of roots) named.add(r)
  return {
    prelude: all.filter(n => !n.varying && named.has(n)),
    invariantsUsedInLoop: [...invariantsUsedInLoop].sort((x, y) => x.id - y.id),
    body: all.filter(n => n.varying && named.has(n)),
    named
  }
}

function nameOf (n: Node): string {
  if (n.kind === 'input') return n.name
  if (n.kind === 'op' && n.label != null) return n.label
  return `t${n.id}`
}

// ---------------------------------------------------------------------------
// JavaScript emitter

const i32 = (v: number): string => String(v | 0)

function jsExpr (n: Node, s: Schedule, top = false): string {
  if (n.kind === 'const') return i32(n.value)
  if (n.kind === 'input' || (!top && s.named.has(n))) return nameOf(n)
  const arg = (i: number): string => jsExpr(n.args[i] as Node, s)
  switch (n.op) {
    case 'add': {
      const sum = `(${n.args.map(x => jsExpr(x, s)).join(' + ')}) | 0`
      return top ? sum : `(${sum})`
    }
    case 'xor': return top ? `${arg(0)} ^ ${arg(1)}` : `(${arg(0)} ^ ${arg(1)})`
    case 'and': return top ? `${arg(0)} & ${arg(1)}` : `(${arg(0)} & ${arg(1)})`
    case 'or': return top ? `${arg(0)} | ${arg(1)}` : `(${arg(0)} | ${arg(1)})`
    case 'rotr': return `(${arg(0)} >>> ${n.amount} | ${arg(0)} << ${32 - n.amount})`
    case 'shr': return `${arg(0)} >>> ${n.amount}`
  }
}

function emitJs (): string {
  const model = buildModel()
  const s = schedule([model.h0, model.h1])
  const lines: string[] = []
  lines.push('// GENERATED by tools/hashcash/gen-kernels.ts: do not edit by hand.')
  lines.push('/* eslint-disable */')
  lines.push('')
  lines.push('/**')
  lines.push(' * Tries nonces (hi, lo), (hi, lo + 1), ... (hi, lo + count - 1) against the')
  lines.push(' * challenge words `w` (8 big-endian words) and returns the index of the first')
  lines.push(' * one whose digest has H0 & mask0 === 0 and H1 & mask1 === 0, or -1.')
  lines.push(' * `lo + count` must not pass 2^32: the high word is fixed for the call.')
  lines.push(' * `out[0]`, `out[1]` receive H0 and H1 of the nonce found.')
  lines.push(' */')
  lines.push('export function searchUnrolled (w: Int32Array, hi: number, lo: number, count: number, mask0: number, mask1: number, out: Int32Array): number {')
  for (let i = 0; i < 8; i++) lines.push(`  const w${i} = (w[${i}] as number) | 0`)
  lines.push('  hi |= 0')
  lines.push('  mask0 |= 0')
  lines.push('  mask1 |= 0')
  lines.push('  // nonce-independent part, computed once per call')
  for (const n of s.prelude) lines.push(`  const ${nameOf(n)} = ${jsExpr(n, s, true)}`)
  lines.push('  for (let i = 0; i < count; i++) {')
  lines.push('    const w9 = (lo + i) | 0')
  for (const n of s.body) {
    if (n === model.h0 || n === model.h1) continue
    lines.push(`    const ${nameOf(n)} = ${jsExpr(n, s, true)}`)
  }
  lines.push(`    const h0 = ${jsExpr(model.h0, s, true)}`)
  lines.push('    if ((h0 & mask0) !== 0) continue')
  lines.push(`    const h1 = ${jsExpr(model.h1, s, true)}`)
  lines.push('    if ((h1 & mask1) !== 0) continue')
  lines.push('    out[0] = h0')
  lines.push('    out[1] = h1')
  lines.push('    return i')
  lines.push('  }')
  lines.push('  return -1')
  lines.push('}')
  lines.push('')
  return lines.join('\n')
}

// ---------------------------------------------------------------------------
// WebAssembly (SIMD, 4 lanes) emitter

function watScalar (n: Node, s: Schedule, top = false): string {
  if (n.kind === 'const') return `(i32.const ${n.value | 0})`
  if (n.kind === 'input' || (!top && s.named.has(n))) return `(local.get $${nameOf(n)})`
  const arg = (i: number): string => watScalar(n.args[i] as Node, s)
  switch (n.op) {
    case 'add': return n.args.map(x => watScalar(x, s)).reduce((acc, x) => `(i32.add ${acc} ${x})`)
    case 'xor': return `(i32.xor ${arg(0)} ${arg(1)})`
    case 'and': return `(i32.and ${arg(0)} ${arg(1)})`
    case 'or': return `(i32.or ${arg(0)} ${arg(1)})`
    case 'rotr': return `(i32.rotr ${arg(0)} (i32.const ${n.amount}))`
    case 'shr': return `(i32.shr_u ${arg(0)} (i32.const ${n.amount}))`
  }
}

function watVector (n: Node, s: Schedule, sfx: string, top = false): string {
  if (n.kind === 'const') return `(v128.const i32x4 ${n.value | 0} ${n.value | 0} ${n.value | 0} ${n.value | 0})`
  if (!isVarying(n)) return `(local.get $v_${nameOf(n)})`
  if (n.kind === 'input' || (!top && s.named.has(n))) return `(local.get $${nameOf(n)}${sfx})`
  const arg = (i: number): string => watVector(n.args[i] as Node, s, sfx)
  switch (n.op) {
    case 'add': return n.args.map(x => watVector(x, s, sfx)).reduce((acc, x) => `(i32x4.add ${acc} ${x})`)
    case 'xor': return `(v128.xor ${arg(0)} ${arg(1)})`
    case 'and': return `(v128.and ${arg(0)} ${arg(1)})`
    case 'or': return `(v128.or ${arg(0)} ${arg(1)})`
    case 'rotr': return `(v128.or (i32x4.shr_u ${arg(0)} (i32.const ${n.amount})) (i32x4.shl ${arg(0)} (i32.const ${32 - n.amount})))`
    case 'shr': return `(i32x4.shr_u ${arg(0)} (i32.const ${n.amount}))`
  }
}

/**
 * `streams` independent 4-lane vectors per loop step, their statements
 * interleaved, so the CPU has more independent work in flight.
 */
function emitWat (streams = WASM_STREAMS): string {
  const model = buildModel()
  const s = schedule([model.h0, model.h1])
  const lanes = 4 * streams
  const sfxs = Array.from({ length: streams }, (_, i) => streams === 1 ? '' : `_${i}`)
  const L: string[] = []
  L.push(';; GENERATED by tools/hashcash/gen-kernels.ts: do not edit by hand.')
  L.push(`;; search(w0..w7, hi, lo, blocks, mask0, mask1) -> first block index i (nonces`)
  L.push(`;; lo + ${lanes}i .. lo + ${lanes}i + ${lanes - 1}) where some lane has H0 & mask0 == 0 and H1 & mask1 == 0, or -1.`)
  L.push(';; The caller finds the exact lane with the scalar kernel.')
  L.push('(module')
  L.push('  (func (export "search")')
  L.push('    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)')
  L.push('    (param $w4 i32) (param $w5 i32) (param $w6 i32) (param $w7 i32)')
  L.push('    (param $hi i32) (param $lo i32) (param $blocks i32) (param $mask0 i32) (param $mask1 i32)')
  L.push('    (result i32)')
  L.push('    (local $i i32) (local $vmask0 v128) (local $vmask1 v128) (local $hit v128)')
  for (const n of s.prelude) L.push(`    (local $${nameOf(n)} i32)`)
  for (const n of s.invariantsUsedInLoop) L.push(`    (local $v_${nameOf(n)} v128)`)
  for (const sfx of sfxs) {
    L.push(`    (local $w9${sfx} v128)`)
    for (const n of s.body) L.push(`    (local $${nameOf(n)}${sfx} v128)`)
  }
  L.push('    ;; nonce-independent part, computed once per call')
  for (const n of s.prelude) L.push(`    (local.set $${nameOf(n)} ${watScalar(n, s, true)})`)
  for (const n of s.invariantsUsedInLoop) L.push(`    (local.set $v_${nameOf(n)} (i32x4.splat (local.get $${nameOf(n)})))`)
  L.push('    (local.set $vmask0 (i32x4.splat (local.get $mask0)))')
  L.push('    (local.set $vmask1 (i32x4.splat (local.get $mask1)))')
  sfxs.forEach((sfx, k) => {
    L.push(`    (local.set $w9${sfx} (i32x4.add (i32x4.splat (local.get $lo)) (v128.const i32x4 ${4 * k} ${4 * k + 1} ${4 * k + 2} ${4 * k + 3})))`)
  })
  L.push('    (block $done')
  L.push('      (loop $next')
  L.push('        (br_if $done (i32.ge_u (local.get $i) (local.get $blocks)))')
  for (const n of s.body) {
    for (const sfx of sfxs) L.push(`        (local.set $${nameOf(n)}${sfx} ${watVector(n, s, sfx, true)})`)
  }
  const hitOf = (sfx: string): string => [
    '(v128.and',
    `(i32x4.eq (v128.and (local.get $${nameOf(model.h0)}${sfx}) (local.get $vmask0)) (v128.const i32x4 0 0 0 0))`,
    `(i32x4.eq (v128.and (local.get $${nameOf(model.h1)}${sfx}) (local.get $vmask1)) (v128.const i32x4 0 0 0 0)))`
  ].join(' ')
  L.push(`        (local.set $hit ${sfxs.map(hitOf).reduce((acc, x) => `(v128.or ${acc} ${x})`)})`)
  L.push('        (if (v128.any_true (local.get $hit)) (then (return (local.get $i))))')
  for (const sfx of sfxs) L.push(`        (local.set $w9${sfx} (i32x4.add (local.get $w9${sfx}) (v128.const i32x4 ${lanes} ${lanes} ${lanes} ${lanes})))`)
  L.push('        (local.set $i (i32.add (local.get $i) (i32.const 1)))')
  L.push('        (br $next)))')
  L.push('    (i32.const -1)))')
  L.push('')
  return L.join('\n')
}

// ---------------------------------------------------------------------------

/** Assembles WAT text with wabt (a dev dependency, used only here and in the tests). */
export async function assembleWat (wat: string): Promise<Uint8Array> {
  const { default: initWabt } = await import('wabt')
  const wabt = await initWabt()
  const mod = wabt.parseWat('sha256-simd.wat', wat, { simd: true })
  try {
    mod.validate()
    return new Uint8Array(mod.toBinary({ write_debug_names: false }).buffer)
  } finally {
    mod.destroy()
  }
}

export function wasmModuleSource (bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64')
  const chunks = b64.match(/.{1,100}/g) ?? []
  return [
    '// GENERATED by tools/hashcash/gen-kernels.ts from sha256-simd.wat: do not edit by hand.',
    '// The tests re-assemble the .wat and compare, so these bytes always match that source.',
    '',
    'export const SHA256_SIMD_WASM_BASE64 =',
    chunks.map(c => `  '${c}'`).join(' +\n'),
    ''
  ].join('\n')
}

export { emitJs, emitWat }

/** The kernels live with the search code that runs them. */
const here = (name: string): string => fileURLToPath(new URL(`../../shared/hashcash/${name}`, import.meta.url))

if (process.argv[1] != null && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(here('./sha256-unrolled.ts'), emitJs())
  writeFileSync(here('./sha256-simd.wat'), emitWat())
  const bytes = await assembleWat(readFileSync(here('./sha256-simd.wat'), 'utf8'))
  writeFileSync(here('./sha256-simd-wasm.ts'), wasmModuleSource(bytes))
  process.stdout.write(`wrote sha256-unrolled.ts, sha256-simd.wat, sha256-simd-wasm.ts (${bytes.length} bytes of wasm)\n`)
}
