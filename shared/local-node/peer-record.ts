import { GolemClayError } from '../errors.ts'
import { peerIdFromCID } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A signed peer record failed verification or belongs to another peer. */
export class InvalidPeerRecordError extends GolemClayError { override name = 'InvalidPeerRecordError'; override readonly code = 'INVALID_PEER_RECORD' }

export interface VerifiedPeerRecord {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  seq: bigint
}

/**
 * Opens a signed peer record envelope and checks that it was signed by
 * `expected` and describes `expected`. Addresses are only ever taken from
 * records that pass this check, never from unsigned lists.
 */
export async function openSignedPeerRecord (bytes: Uint8Array, expected: PeerId): Promise<VerifiedPeerRecord> {
  let envelope: RecordEnvelope
  let record: PeerRecord
  try {
    envelope = await RecordEnvelope.openAndCertify(bytes, PeerRecord.DOMAIN)
    record = PeerRecord.createFromProtobuf(envelope.payload)
  } catch (err: any) {
    throw new InvalidPeerRecordError(`Peer record did not verify: ${err.message}`)
  }
  const signer = peerIdFromCID(envelope.publicKey.toCID())
  if (!signer.equals(expected) || !record.peerId.equals(expected)) {
    throw new InvalidPeerRecordError(`Peer record for ${expected.toString()} was signed by ${signer.toString()}`)
  }
  return { peerId: signer, multiaddrs: record.multiaddrs, seq: record.seqNumber }
}
