import { createPaymentBinding } from './payment-binding.ts'
import { generatePaymentKey, paymentAccountOf } from './payment-key.ts'
import type { ComponentLogger, Logger, PrivateKey, Startable } from '@libp2p/interface'
import type { Address, Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

export interface PaymentAccountInit {
  /**
   * The payment key, a secp256k1 private key as 0x hex: a tab keeps it
   * beside its identity, a Node peer or relay in a key file.
   * @default a fresh key: an account for this run only
   */
  privateKey?: Hex
}

export interface PaymentAccountComponents {
  /** The libp2p key, which signs the binding. */
  privateKey: PrivateKey
  logger: ComponentLogger
}

/**
 * Every node's payment account (`services.payments`): an Ethereum address
 * bound to the peer ID. It signs what pays and is paid; the page, the CLI
 * and /status show the address. The key lives here only: never in task
 * code's sandboxes, never in what the debug API hands out.
 */
export class PaymentAccount implements Startable {
  /** The account's Ethereum address (checksummed). */
  readonly address: Address
  /** Signs for this node's payments (viem's local account; the key stays in its closure). */
  readonly account: PrivateKeyAccount
  private readonly key: PrivateKey
  private readonly log: Logger
  private bound?: Promise<string>

  constructor (components: PaymentAccountComponents, init: PaymentAccountInit = {}) {
    this.key = components.privateKey
    this.account = paymentAccountOf(init.privateKey ?? generatePaymentKey())
    this.address = this.account.address
    this.log = components.logger.forComponent('golem-clay:payments')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/payment-account'

  /** The peer ID this account is bound to. */
  get peer (): string { return this.key.publicKey.toString() }

  start (): void {
    this.log('payment account %s for %s', this.address, this.peer)
    // made now, so the first offer or header does not wait for it
    void this.binding().catch(() => {})
  }

  stop (): void {}

  /** This node's payment binding (shared/payments/payment-binding.ts), made once and carried in its offers and task headers. */
  async binding (): Promise<string> {
    this.bound ??= createPaymentBinding(this.key, this.account).catch((err: Error) => {
      this.bound = undefined
      this.log.error('payment binding not made - %s', err.message)
      throw err
    })
    return await this.bound
  }
}

/** The payment account service; libp2p hands it the node's key. */
export function paymentAccount (init: PaymentAccountInit = {}): (components: PaymentAccountComponents) => PaymentAccount {
  return (components) => new PaymentAccount(components, init)
}
