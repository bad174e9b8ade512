// What the tab runs: measure.ts, bundled by tab-bundle.ts and evaluated in a blank page.
import { PaymentsBench } from './measure.ts'

declare global {
  interface Window {
    paymentsBench: PaymentsBench
  }
}

window.paymentsBench = new PaymentsBench()
