// Shared emulator fixtures for the Vitest suites.
import type { Emulator } from '../../lib/emulator.js'

/** The environment of the receiving `trpc` service, per the console layer's conventions. */
export function receiverEnv(emu: Emulator): Record<string, string> {
  const { webhook, trpc, worker } = emu.machines
  return {
    CLERK_API_URL: emu.url,
    CLERK_SECRET_KEY: emu.secretKey,
    CLERK_MACHINE_SECRET_KEY_TRPC: trpc.secretKey,
    CLERK_M2M_MACHINE_ID_TRPC: trpc.id,
    CLERK_M2M_MACHINE_ID_WEBHOOK: webhook.id,
    CLERK_M2M_MACHINE_ID_WORKER: worker.id,
  }
}

/** Mints a token with a machine's secret key over the Backend API wire format (snake_case body). */
export async function mintToken(emu: Emulator, machine: string, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await fetch(`${emu.url}/m2m_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emu.machines[machine].secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`minting a token for ${machine} failed: ${res.status}`)
  return res.json()
}
