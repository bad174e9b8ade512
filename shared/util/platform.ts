/**
 * True where WebCrypto is the platform's crypto and runs off the calling
 * thread (a browser). In Node, OpenSSL called synchronously beats WebCrypto's
 * thread-pool round trip for hashes and signatures alike.
 */
export function webCryptoPreferred (): boolean {
  return typeof (globalThis as any).process?.getBuiltinModule !== 'function' && globalThis.crypto?.subtle != null
}
