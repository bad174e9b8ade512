import { formatEther, parseUnits } from 'viem'
import { UsageError } from '../../shared/errors.ts'
import { DEPOSIT_ABI, depositTokens, readBalances, unlockDeposit, withdrawDeposit } from '../../shared/payments/index.ts'
import { chainAccess, explainPaymentError, NotEnoughGasError, tokens, withdrawableText } from './chain-access.ts'
import type { ChainAccess } from './chain-access.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { Emit } from '../storage/peer-commands.ts'

export const WALLET_COMMANDS_HELP = `  wallet                   payment address, token and gas balances, deposit, earnings
  deposit <amount>         lock <amount> whole tokens (e.g. 1 or 0.5) in the deposit that pays for tasks
  unlock                   start the deposit's withdrawal delay (paid tasks stop until you deposit again)
  withdraw                 take the whole deposit back once the delay has passed
  cheques                  what each requestor paid this provider: earned, cashed, uncashed, cashouts
  cash                     have the relay cash every uncashed cheque now
  faucet                   test tokens and gas for this account (a relay's embedded chain only)`

type Command = (args: string[], options?: { signal?: AbortSignal }) => Promise<void>

/** The Node peer's wallet commands: its payment account on the relay's chain, and what it earned as a provider. */
export function walletCommands (node: NodePeer, emit: Emit): Record<string, Command> {
  const me = node.services.payments.address
  // every command's failure in words, on the chain it reached (if any)
  const withChain = (fn: (access: ChainAccess, args: string[], signal?: AbortSignal) => Promise<void>): Command => async (args, { signal } = {}) => {
    let access: ChainAccess | undefined
    try {
      access = await chainAccess(node, signal)
      await fn(access, args, signal)
    } catch (err) {
      throw await explainPaymentError(err, node, access)
    }
  }
  const earnings = (): NonNullable<NodePeer['services']['market']['earnings']> => {
    const e = node.services.market.earnings
    if (e == null) throw new UsageError('this peer earns nothing: start it with --provide to be paid for compute')
    return e
  }
  const needGas = async (access: ChainAccess): Promise<void> => {
    if (await access.clients.read.getBalance({ address: me }) === 0n) throw new NotEnoughGasError('not enough gas: this payment account holds none of the chain\'s currency to pay for the transaction (on a test chain the relay\'s faucet gives some)')
  }
  const depositState = async (access: ChainAccess): Promise<{ amount: bigint, unlockAt: number }> => {
    const [amount, unlockAt] = await access.clients.read.readContract({ address: access.contracts.deposit, abi: DEPOSIT_ABI, functionName: 'deposits', args: [me] })
    return { amount, unlockAt: Number(unlockAt) }
  }

  return {
    wallet: withChain(async (access, _args, signal) => {
      const b = await readBalances(access.clients, access.contracts, me)
      const summary = await node.services.market.earnings?.summary({ signal })
      const state = b.deposit === 0n ? 'empty' : b.unlockAt === 0 ? 'locked' : 'unlocking'
      const lines = [
        `payment account ${me} on chain ${access.info.chainId}`,
        `  tokens   ${tokens(b.tokens, b)}`,
        `  gas      ${formatEther(b.gas)} (the chain's own coin)`,
        `  deposit  ${tokens(b.deposit, b)}${state === 'locked' ? ' (locked: pays for your tasks)' : state === 'unlocking' ? `, unlocking: ${withdrawableText(b.unlockAt)}` : ''}`
      ]
      if (summary != null) lines.push(`  earned   ${tokens(summary.earned, b)}: ${tokens(summary.cashed, b)} cashed, ${tokens(summary.uncashed, b)} uncashed`)
      emit('wallet', {
        address: me, chainId: access.info.chainId, token: access.info.token, symbol: b.symbol, decimals: b.decimals,
        tokens: String(b.tokens), gas: String(b.gas), deposit: String(b.deposit), depositState: state, unlockAt: b.unlockAt,
        ...(summary != null ? { earned: String(summary.earned), cashed: String(summary.cashed), uncashed: String(summary.uncashed) } : {})
      }, lines.join('\n'))
    }),
    deposit: withChain(async (access, [text]) => {
      if (text == null || !/^\d+(\.\d+)?$/.test(text)) throw new UsageError('usage: deposit <amount> (whole tokens, e.g. 1 or 0.25)')
      let amount: bigint
      try {
        amount = parseUnits(text, access.decimals)
      } catch {
        throw new UsageError(`${text} is not an amount of ${access.symbol} (${access.decimals} decimals)`)
      }
      if (amount === 0n) throw new UsageError('deposit a positive amount')
      await needGas(access)
      const held = (await readBalances(access.clients, access.contracts, me)).tokens
      if (held < amount) throw new UsageError(`you hold ${tokens(held, access)}, less than ${tokens(amount, access)}`)
      const txs = await depositTokens(access.clients, access.contracts, amount)
      const now = await depositState(access)
      emit('deposited', { amount: String(amount), deposit: String(now.amount), txs }, `deposited ${tokens(amount, access)} (${txs.length === 2 ? 'approve and deposit' : 'deposit'}: ${txs.join(', ')}); the deposit holds ${tokens(now.amount, access)}`)
    }),
    unlock: withChain(async (access) => {
      await needGas(access)
      const tx = await unlockDeposit(access.clients, access.contracts)
      const now = await depositState(access)
      emit('unlocking', { tx, deposit: String(now.amount), unlockAt: now.unlockAt }, `deposit of ${tokens(now.amount, access)} unlocking (${tx}): ${withdrawableText(now.unlockAt)}; paid tasks need a locked deposit (deposit again to lock it)`)
    }),
    withdraw: withChain(async (access) => {
      await needGas(access)
      const before = await depositState(access)
      const tx = await withdrawDeposit(access.clients, access.contracts)
      emit('withdrawn', { tx, amount: String(before.amount) }, `withdrew ${tokens(before.amount, access)} (${tx})`)
    }),
    cheques: withChain(async (access, _args, signal) => {
      const s = await earnings().summary({ signal })
      const lines = s.payers.length === 0
        ? ['no cheques received']
        : s.payers.map(p => `${p.payer}  earned ${tokens(p.earned, access)}, cashed ${tokens(p.cashed, access)}, uncashed ${tokens(p.uncashed, access)}`)
      lines.push(`in all: earned ${tokens(s.earned, access)}, cashed ${tokens(s.cashed, access)}, uncashed ${tokens(s.uncashed, access)}`)
      for (const h of s.history) lines.push(`  cashed ${tokens(h.amount, access)} from ${h.payer} at ${new Date(h.at).toISOString()} in ${h.tx}`)
      emit('cheques', {
        earned: String(s.earned), cashed: String(s.cashed), uncashed: String(s.uncashed),
        payers: s.payers.map(p => ({ payer: p.payer, earned: String(p.earned), cashed: String(p.cashed), uncashed: String(p.uncashed) })),
        history: s.history.map(h => ({ payer: h.payer, tx: h.tx, amount: String(h.amount), at: h.at }))
      }, lines.join('\n'))
    }),
    faucet: withChain(async (access, _args, signal) => {
      const grant = await node.services.chain.faucet(me, { signal })
      emit('faucet', { tokens: String(grant.tokens), gas: String(grant.gas) }, `the faucet sent ${tokens(grant.tokens, access)} and ${formatEther(grant.gas)} of the chain's coin for gas to ${me}`)
    }),
    cash: withChain(async (access, _args, signal) => {
      const done = await earnings().cash({ signal })
      let sum = 0n
      for (const c of done) sum += c.amount
      const lines = done.length === 0 ? ['nothing to cash'] : done.map(c => `cashed ${tokens(c.amount, access)} from ${c.payer} in ${c.tx}`)
      if (done.length > 1) lines.push(`${tokens(sum, access)} in all`)
      emit('cashed', { total: String(sum), cashouts: done.map(c => ({ payer: c.payer, tx: c.tx, amount: String(c.amount) })) }, lines.join('\n'))
    })
  }
}
