import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import { decodeJson, encodeJson, expectLiteral, expectRecord, expectString, GOSSIP_PROTOCOL } from '../wire/index.ts'
import { openHeader } from './bound-messages.ts'
import { validateClosed } from './market-codec.ts'
import { MAX_SIGNED_LENGTH, openMessage } from './signed.ts'
import type { Bound } from './bound-messages.ts'
import type { TaskClosed, TaskHeader } from './market-codec.ts'
import type { Opened } from './signed.ts'
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub'


/** Pub/sub as every Golem Clay node runs it: strict signing, no floodsub, relayed links allowed. */
export function marketPubsub (init: Partial<GossipsubOpts> = {}): ReturnType<typeof gossipsub> {
  return gossipsub({
    protocols: [GOSSIP_PROTOCOL],
    fallbackToFloodsub: false,
    allowPublishToZeroTopicPeers: true,
    runOnLimitedConnection: true,
    maxInboundDataLength: 2 * MAX_SIGNED_LENGTH,
    emitSelf: false,
    // gossipsub scores down peers that share an IP (past 10, graylisted past ~14), and keeps a gone
    // peer's score for an hour: tabs behind one NAT, or a relay's many short-lived visitors from
    // one address, would stop hearing task headers. Sessions (Hashcash) and the relay's per-address
    // caps are what bound one address here.
    ...init,
    scoreParams: { IPColocationFactorWeight: 0, ...init.scoreParams }
  })
}

export type GossipItem = { kind: 'task', opened: Bound<TaskHeader> } | { kind: 'closed', opened: Opened<TaskClosed> }

export function encodeGossip (kind: 'task' | 'closed', msg: string): Uint8Array {
  return encodeJson({ v: 1, kind, msg }, 2 * MAX_SIGNED_LENGTH)
}

/** Decodes and verifies one gossip payload; throws typed errors. */
export async function openGossip (data: Uint8Array): Promise<GossipItem> {
  const frame = decodeJson(data, value => {
    const obj = expectRecord(value, 'gossip')
    expectLiteral(obj, 'v', [1])
    return { kind: expectLiteral(obj, 'kind', ['task', 'closed'] as const), msg: expectString(obj, 'msg', MAX_SIGNED_LENGTH) }
  })
  // a header travels only with its requestor's payment binding
  if (frame.kind === 'task') return { kind: 'task', opened: await openHeader(frame.msg) }
  return { kind: 'closed', opened: await openMessage(frame.msg, 'closed', validateClosed, c => c.requestor) }
}

/** Lets only well-formed, correctly signed (binding included), unexpired headers travel on. */
export function installValidator (pubsub: GossipSub, topic: string): void {
  pubsub.topicValidators.set(topic, async (_peer, message) => {
    try {
      const item = await openGossip(message.data)
      if (item.kind === 'task' && item.opened.body.deadline < Date.now()) return TopicValidatorResult.Ignore
      return TopicValidatorResult.Accept
    } catch {
      return TopicValidatorResult.Reject
    }
  })
}
