import { InvalidTaskError } from './market-errors.ts'

const MAGIC = 0x47434942 // "GCIB"

/**
 * Per-subtask inputs packed into one storage object, so a provider fetches
 * them once per task: magic, count, count + 1 offsets (u32 LE), then bytes.
 */
export function packInputs (inputs: Uint8Array[]): Uint8Array {
  const head = 8 + 4 * (inputs.length + 1)
  const total = inputs.reduce((n, i) => n + i.byteLength, head)
  if (total > 0xffffffff) throw new InvalidTaskError('Inputs exceed 4 GiB')
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, inputs.length, true)
  let offset = head
  inputs.forEach((input, i) => {
    view.setUint32(8 + 4 * i, offset, true)
    out.set(input, offset)
    offset += input.byteLength
  })
  view.setUint32(8 + 4 * inputs.length, offset, true)
  return out
}

/** Checks the bundle's structure once; entries are then views, not copies. */
export function unpackInputs (bundle: Uint8Array): Uint8Array[] {
  if (bundle.byteLength < 12) throw new InvalidTaskError('Input bundle is truncated')
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength)
  if (view.getUint32(0, true) !== MAGIC) throw new InvalidTaskError('Input bundle has a bad magic number')
  const count = view.getUint32(4, true)
  const head = 8 + 4 * (count + 1)
  if (count === 0 || head > bundle.byteLength) throw new InvalidTaskError('Input bundle has a bad entry count')
  const entries: Uint8Array[] = []
  let prev = head
  for (let i = 0; i <= count; i++) {
    const offset = view.getUint32(8 + 4 * i, true)
    if (offset < prev || offset > bundle.byteLength || (i === 0 && offset !== head)) throw new InvalidTaskError(`Input bundle offset ${i} is out of order or bounds`)
    if (i > 0) entries.push(bundle.subarray(prev, offset))
    prev = offset
  }
  if (prev !== bundle.byteLength) throw new InvalidTaskError('Input bundle has trailing bytes')
  return entries
}
