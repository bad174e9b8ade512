import { concatHex, InvalidAddressError, isAddress, keccak256, stringToHex } from 'viem'
import { DEPOSIT_DOMAIN_NAME, DEPOSIT_DOMAIN_VERSION } from './deposit-typed-data.ts'
import type { Cheque, DepositDeployment, PromissoryNote } from './deposit-typed-data.ts'
import type { Hex } from 'viem'

/**
 * The EIP-712 digests of cheques and notes, as ClayDeposit computes them,
 * without viem's generic hashTypedData: the domain separator is hashed once
 * per deployment and the fields are laid out by hand (every one a static
 * 32-byte word). A requestor signs two of these per subtask and a provider
 * checks one, so the generic path's re-encoding of the domain and the types
 * on every call was a tenth of the payments' CPU. The unit test holds them
 * equal to hashTypedData.
 */

const CHEQUE_TYPEHASH = keccak256(stringToHex('Cheque(address requestor,address beneficiary,address provider,uint256 cumulative,uint64 seq)'))
const NOTE_TYPEHASH = keccak256(stringToHex('PromissoryNote(address requestor,address beneficiary,address provider,bytes32 subtask,uint64 seq,uint256 amount)'))
const DOMAIN_TYPEHASH = keccak256(stringToHex('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)'))
const NAME_HASH = keccak256(stringToHex(DEPOSIT_DOMAIN_NAME))
const VERSION_HASH = keccak256(stringToHex(DEPOSIT_DOMAIN_VERSION))

/** Separators by deployment; a node knows a handful. */
const separators = new Map<string, Hex>()

function word (value: bigint): string {
  return value.toString(16).padStart(64, '0')
}

/** An address as a word; one that is none or has a bad checksum is refused, as hashTypedData would (viem caches the check). */
function addressWord (address: string): string {
  if (!isAddress(address)) throw new InvalidAddressError({ address })
  return address.slice(2).toLowerCase().padStart(64, '0')
}

/** The deployment's EIP-712 domain separator (name, version, chain ID, contract, salt). */
export function domainSeparator ({ chainId, address, salt }: DepositDeployment): Hex {
  const key = `${chainId}:${address.toLowerCase()}:${salt.toLowerCase()}`
  let separator = separators.get(key)
  if (separator == null) {
    separator = keccak256(`0x${DOMAIN_TYPEHASH.slice(2)}${NAME_HASH.slice(2)}${VERSION_HASH.slice(2)}${word(BigInt(chainId))}${addressWord(address)}${salt.slice(2).toLowerCase().padStart(64, '0')}`)
    if (separators.size >= 64) separators.delete(separators.keys().next().value as string)
    separators.set(key, separator)
  }
  return separator
}

function digest (deployment: DepositDeployment, structHash: Hex): Hex {
  return keccak256(concatHex(['0x1901', domainSeparator(deployment), structHash]))
}

/** What the requestor signs for a cheque (EIP-712 `Cheque`). */
export function chequeTypedDigest (deployment: DepositDeployment, c: Cheque): Hex {
  return digest(deployment, keccak256(`0x${CHEQUE_TYPEHASH.slice(2)}${addressWord(c.requestor)}${addressWord(c.beneficiary)}${addressWord(c.provider)}${word(c.cumulative)}${word(c.seq)}`))
}

/** What the requestor signs for a promissory note (EIP-712 `PromissoryNote`). */
export function noteTypedDigest (deployment: DepositDeployment, n: PromissoryNote): Hex {
  return digest(deployment, keccak256(`0x${NOTE_TYPEHASH.slice(2)}${addressWord(n.requestor)}${addressWord(n.beneficiary)}${addressWord(n.provider)}${n.subtask.slice(2).toLowerCase().padStart(64, '0')}${word(n.seq)}${word(n.amount)}`))
}
