/**
 * The Chromium that tests and benches drive: Debian's (`apt-get install
 * chromium`; Playwright's own download is not reachable here) unless
 * GOLEM_CLAY_CHROMIUM points elsewhere, with the flags a headless test run
 * needs.
 */
export const CHROMIUM_PATH = process.env.GOLEM_CLAY_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // ICE candidates as plain IPs: there is no mDNS resolver between test tabs
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // background tabs must keep their timers and WebRTC running at full speed
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows'
]
