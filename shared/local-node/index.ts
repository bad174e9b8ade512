/** LocalNode: a node's signed peer record. */
export { InvalidPeerRecordError, openSignedPeerRecord } from './peer-record.ts'
