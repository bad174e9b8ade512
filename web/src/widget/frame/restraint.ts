/** Why work pauses by itself: the page is hidden, the device runs on battery, the CPU is under pressure. */
export type RestraintReason = 'hidden' | 'battery' | 'pressure'

interface BatteryManagerLike extends EventTarget { charging: boolean }
interface PressureRecordLike { state: 'nominal' | 'fair' | 'serious' | 'critical' }
interface PressureObserverLike { observe: (source: 'cpu', options?: { sampleInterval?: number }) => Promise<void>, disconnect: () => void }
type PressureObserverCtor = new (cb: (records: PressureRecordLike[]) => void) => PressureObserverLike

/**
 * Tells `onChange` whenever one of the reasons to hold back starts or ends,
 * where the browser says: visibility always, the battery through
 * `navigator.getBattery` (Chromium), CPU pressure through the Compute
 * Pressure API (the frame is allowed it with `allow="compute-pressure"`).
 * Everything stops listening when `signal` aborts.
 */
export function watchRestraint (onChange: (reason: RestraintReason, active: boolean) => void, signal: AbortSignal): void {
  const visibility = (): void => { onChange('hidden', document.visibilityState === 'hidden') }
  document.addEventListener('visibilitychange', visibility, { signal })
  visibility()

  const getBattery = (navigator as Navigator & { getBattery?: () => Promise<BatteryManagerLike> }).getBattery
  getBattery?.call(navigator).then(battery => {
    if (signal.aborted) return
    const charging = (): void => { onChange('battery', !battery.charging) }
    battery.addEventListener('chargingchange', charging, { signal })
    charging()
  }, () => {})

  const Observer = (globalThis as { PressureObserver?: PressureObserverCtor }).PressureObserver
  if (Observer == null) return
  try {
    const observer = new Observer(records => {
      const last = records[records.length - 1]
      if (last != null) onChange('pressure', last.state === 'serious' || last.state === 'critical')
    })
    // refused without the permission policy, or where the platform has no source: no pressure pauses then
    observer.observe('cpu', { sampleInterval: 2_000 }).catch(() => {})
    signal.addEventListener('abort', () => { observer.disconnect() }, { once: true })
  } catch {}
}
