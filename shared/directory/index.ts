/** The peer directory protocol: relays list their peers with signed peer records; the client and the codec. */
export { directoryClient } from './directory-client.ts'
export type { DirectoryClient, DirectoryPeer } from './directory-client.ts'
export { MAX_DIRECTORY_FRAME, MAX_DIRECTORY_PEERS, validateDirectoryFrame, validateSubscribeFrame } from './directory-codec.ts'
export type { ChangesFrame, DirectoryEntry, DirectoryFrame, PeerRole, PeersFrame } from './directory-codec.ts'
