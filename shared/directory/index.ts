/** The peer directory protocol: relays list their peers with signed peer records; the client and the codec. */
export { directoryClient } from './directory-client.ts'
export type { DirectoryClient, DirectoryPeer } from './directory-client.ts'
export { MAX_DIRECTORY_FRAME, MAX_DIRECTORY_PEERS, validateSubscribeFrame } from './directory-codec.ts'
export type { DirectoryEntry, PeerRole } from './directory-codec.ts'
