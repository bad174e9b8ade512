import { GolemClayError } from '../errors.ts'

/** A Golem Clay protocol handler was registered past the session gate (not through `sessions.handle`). */
export class UngatedProtocolError extends GolemClayError {
  override name = 'UngatedProtocolError'
  override readonly code: string = 'UNGATED_PROTOCOL'
}

/** A stream was asked for on a protocol with no relayed-link rule (RELAYED_LINKS in shared/wire/protocols.ts). */
export class UndeclaredProtocolError extends GolemClayError {
  override name = 'UndeclaredProtocolError'
  override readonly code: string = 'UNDECLARED_PROTOCOL'
}

/** The protocol needs a direct link and was asked for on a relayed one. */
export class DirectLinkRequiredError extends GolemClayError {
  override name = 'DirectLinkRequiredError'
  override readonly code: string = 'DIRECT_LINK_REQUIRED'
  override readonly retryable: boolean = true
}
