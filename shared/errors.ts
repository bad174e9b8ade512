/** A frame or message failed to decode or did not match its schema. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError'
}

/** A frame was larger than the protocol allows; refused before buffering. */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError'
}

/** A configuration value (flag, env var, page config) could not be used. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
}

/** A multiaddr string could not be parsed or lacks a required part. */
export class InvalidMultiaddrError extends InvalidConfigError {
  override name = 'InvalidMultiaddrError'
}

/** The remote answered with something the protocol does not allow here. */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

/** The operation needs a running node. */
export class NotStartedError extends Error {
  override name = 'NotStartedError'
}

/** No connection to the peer could be made or found. */
export class PeerUnreachableError extends Error {
  override name = 'PeerUnreachableError'
}
