import { chmod, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { toHex } from 'viem'
import { english, generateMnemonic, mnemonicToAccount } from 'viem/accounts'
import { InvalidConfigError } from '../../shared/errors.ts'
import { readTextIfExists, writeFileAtomic } from './atomic-file.ts'
import type { Address, Hex } from 'viem'

/** A file of the chain folder exists but can't be used; never silently replaced (the chain's owner is in it). */
export class ChainFilesError extends InvalidConfigError { override name = 'ChainFilesError'; override readonly code = 'CHAIN_FILES' }

export const KEYS_FILE_NAME = 'keys.json'

export interface ChainKeys {
  /** Anvil's accounts derive from it: passed again on every start, so the chain keeps the same genesis. */
  mnemonic: string
  /** The owner: account 0 of the mnemonic. It deploys, owns the contracts, mints the test token and pays the faucet's gas. */
  owner: { address: Address, privateKey: Hex }
  created: boolean
}

/**
 * The embedded chain's keys, `<dir>/keys.json` (mode 600), made on first
 * start: a random mnemonic (Anvil's default one is public) whose first
 * account is the owner.
 */
export async function loadOrCreateChainKeys (dir: string): Promise<ChainKeys> {
  const path = join(dir, KEYS_FILE_NAME)
  const text = await readTextIfExists(path)
  if (text != null) {
    let mnemonic: unknown
    try {
      mnemonic = JSON.parse(text).mnemonic
    } catch (err: any) {
      throw new ChainFilesError(`${path} is not valid JSON (${err.message}); the chain's owner key is in it: restore it, or move the chain folder away to start a new chain`)
    }
    if (!isMnemonic(mnemonic)) {
      throw new ChainFilesError(`${path} holds no valid mnemonic; restore it, or move the chain folder away to start a new chain`)
    }
    return { mnemonic, owner: ownerOf(mnemonic), created: false }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const mnemonic = generateMnemonic(english)
  const owner = ownerOf(mnemonic)
  await writeFileAtomic(path, `${JSON.stringify({ mnemonic, owner: owner.address }, null, 2)}\n`, { mode: 0o600 })
  await chmod(path, 0o600)
  return { mnemonic, owner, created: true }
}

function ownerOf (mnemonic: string): ChainKeys['owner'] {
  const account = mnemonicToAccount(mnemonic, { addressIndex: 0 })
  return { address: account.address, privateKey: toHex(account.getHdKey().privateKey ?? new Uint8Array()) }
}

/** 12 to 24 words of the English BIP-39 list (what generateMnemonic makes). */
function isMnemonic (value: unknown): value is string {
  if (typeof value !== 'string') return false
  const words = value.split(' ')
  const known = new Set(english)
  return words.length >= 12 && words.length <= 24 && words.length % 3 === 0 && words.every(w => known.has(w))
}
