import { createEmbeddedChain } from './embedded-chain.ts'
import { createExternalChain } from './external-chain.ts'
import type { ChainConfig } from './chain-config.ts'
import type { RelayChain, RelayChainComponents } from './relay-chain.ts'
import type { Hex } from 'viem'

// imported on demand by the relay (only when it runs a chain): the contracts come with it

/** The chain the configuration asks for, not started; undefined for `off`. `paymentKey` (the relay's) cashes cheques on an external chain. */
export function createRelayChain (config: ChainConfig, components: RelayChainComponents = {}, paymentKey?: Hex): RelayChain | undefined {
  switch (config.mode) {
    case 'embedded':
      return createEmbeddedChain(components, { dir: config.dir, chainId: config.chainId, snapshotIntervalMs: config.snapshotIntervalMs })
    case 'external':
      return createExternalChain(components, { rpcUrl: config.rpcUrl, chainId: config.chainId, token: config.token, deposit: config.deposit, dir: config.dir, privateKey: paymentKey })
    default:
      return undefined
  }
}
