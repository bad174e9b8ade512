/**
 * Works around a race in @libp2p/webrtc's tab-to-tab handshake. The dialer
 * opens an 'init' data channel only to start ICE; the answering side closes it
 * the moment it arrives, and Chromium then sometimes closes the dialer's end
 * without ever firing 'open', which libp2p waits for until the dial times out
 * (seen on ~4-40% of first dials here). The dialer closes that channel itself
 * once it is open, so the answering side has no reason to touch it: we hide it
 * from libp2p there. Must run before @libp2p/webrtc captures the global.
 */
const PATCHED = Symbol.for('golem-clay:init-channel-fix')

export function installInitChannelFix (scope: { RTCPeerConnection?: typeof RTCPeerConnection } = globalThis): void {
  const Native = scope.RTCPeerConnection
  if (Native == null || (Native as any)[PATCHED] === true) return
  class GolemClayPeerConnection extends Native {
    static readonly [PATCHED] = true
    constructor (configuration?: RTCConfiguration) {
      super(configuration)
      // registered before libp2p's own listeners, so it runs first
      this.addEventListener('datachannel', (evt) => {
        if (evt.channel.label === 'init') evt.stopImmediatePropagation()
      })
    }
  }
  scope.RTCPeerConnection = GolemClayPeerConnection
}

installInitChannelFix()
