import { hexToBytes } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { InvalidPaymentKeyError } from './payment-errors.ts'
import { loadSecp256k1, signHashWasm } from './secp256k1-wasm.ts'
import type { Address, Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

/** A new payment key: 32 random bytes, a secp256k1 private key, as 0x hex. */
export function generatePaymentKey (): Hex {
  return generatePrivateKey()
}

/**
 * A payment key as people and files hold it: 64 hex digits, `0x` or not,
 * surrounding whitespace ignored. Throws InvalidPaymentKeyError (never
 * echoing the text: it may be a key with a typo).
 */
export function parsePaymentKey (text: string): Hex {
  const trimmed = text.trim()
  const hex = (trimmed.startsWith('0x') || trimmed.startsWith('0X') ? trimmed.slice(2) : trimmed).toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new InvalidPaymentKeyError('A payment key is 64 hex digits (a secp256k1 private key, 0x optional)')
  const key: Hex = `0x${hex}`
  paymentAccountOf(key)
  return key
}

/**
 * The viem account of a payment key; InvalidPaymentKeyError for a key
 * outside the curve's range. Its `sign({ hash })`, which signs every cheque
 * and note, is libsecp256k1's in WebAssembly (the same signature as viem's,
 * several times faster); the rest is viem's.
 */
export function paymentAccountOf (key: Hex): PrivateKeyAccount {
  let account: PrivateKeyAccount
  try {
    account = privateKeyToAccount(key)
  } catch {
    throw new InvalidPaymentKeyError('The payment key is not a valid secp256k1 private key (zero, or not below the curve order)')
  }
  const bytes = hexToBytes(key)
  return {
    ...account,
    sign: async ({ hash }) => {
      const secp256k1 = await loadSecp256k1()
      return (secp256k1 != null ? signHashWasm(secp256k1, bytes, hash) : undefined) ?? await account.sign({ hash })
    }
  }
}

/** The Ethereum address (checksummed) of a payment key. */
export function paymentAddressOf (key: Hex): Address {
  return paymentAccountOf(key).address
}
